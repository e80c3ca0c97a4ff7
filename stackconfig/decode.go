package stackconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// decodeSection decodes the JSON of one structured config value into out,
// after checking its shape against out's type, so that every unknown key and
// every value of the wrong type is reported with its path and value, not just
// the first one.
func decodeSection(section, raw string, out any, p *validate.Problems) bool {
	var generic any
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		p.Addf(section, "want an object (a YAML mapping), got %s", quote(raw))
		return false
	}
	before := p.Len()
	checkShape(section, generic, reflect.TypeOf(out).Elem(), p)
	if p.Len() > before {
		return false
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		p.Addf(section, "cannot decode: %v", err)
		return false
	}
	return true
}

// checkShape checks that v (decoded JSON) fits Go type t, recording a problem
// for every mismatch.
func checkShape(path string, v any, t reflect.Type, p *validate.Problems) {
	if v == nil {
		return // null means "use the default"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			p.Addf(path, "want an object with keys %s, got %s", strings.Join(jsonFields(t), ", "), describe(v))
			return
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name := jsonName(f); name != "" {
				fields[name] = f
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				p.Addf(validate.Join(path, k), "unknown key; want one of %s", strings.Join(jsonFields(t), ", "))
				continue
			}
			checkShape(validate.Join(path, k), m[k], f.Type, p)
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			p.Addf(path, "want a list, got %s", describe(v))
			return
		}
		for i, e := range a {
			checkShape(validate.Index(path, i), e, t.Elem(), p)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			p.Addf(path, "want a mapping, got %s", describe(v))
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			checkShape(path+"."+k, m[k], t.Elem(), p)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			p.Addf(path, "want a string, got %s", describe(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			p.Addf(path, "want true or false, got %s", describe(v))
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
			p.Addf(path, "want a whole number, got %s", describe(v))
		}
	case reflect.Float64:
		if _, ok := v.(float64); !ok {
			p.Addf(path, "want a number, got %s", describe(v))
		}
	}
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := jsonName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

func quote(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}
