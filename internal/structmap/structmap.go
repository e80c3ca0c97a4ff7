// Package structmap turns typed Go values (structs with json tags) into
// pulumi.Map, for Helm values and Kubernetes custom resources. Values that
// come from resources stay pulumi.Input, so Helm values and specs are typed
// Go code, never templated YAML.
package structmap

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

var inputType = reflect.TypeFor[pulumi.Input]()

// Map converts v (a struct, or a map with string keys) into a pulumi.Map.
// Struct fields are named by their json tag; fields tagged omitempty are left
// out when empty; pulumi.Input values (outputs included) are kept as they are.
func Map(v any) pulumi.Map {
	m, ok := convert(reflect.ValueOf(v)).(pulumi.Map)
	if !ok {
		panic(fmt.Sprintf("structmap.Map: want a struct or map, got %T", v))
	}
	return m
}

func convert(v reflect.Value) pulumi.Input {
	if !v.IsValid() {
		return nil
	}
	if v.Type().Implements(inputType) {
		if (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && v.IsNil() {
			return nil
		}
		return v.Interface().(pulumi.Input)
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return convert(v.Elem())
	case reflect.Struct:
		out := pulumi.Map{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && isEmpty(fv) {
				continue
			}
			if in := convert(fv); in != nil {
				out[name] = in
			}
		}
		return out
	case reflect.Map:
		out := pulumi.Map{}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			if in := convert(v.MapIndex(k)); in != nil {
				out[k.String()] = in
			}
		}
		return out
	case reflect.Slice, reflect.Array:
		out := pulumi.Array{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, convert(v.Index(i)))
		}
		return out
	case reflect.String:
		return pulumi.String(v.String())
	case reflect.Bool:
		return pulumi.Bool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pulumi.Int(int(v.Int()))
	case reflect.Float32, reflect.Float64:
		return pulumi.Float64(v.Float())
	}
	panic(fmt.Sprintf("structmap: unsupported kind %s", v.Kind()))
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
		return v.IsNil() || (v.Kind() != reflect.Interface && v.Kind() != reflect.Pointer && v.Len() == 0)
	case reflect.Struct:
		return v.IsZero()
	}
	return v.IsZero()
}
