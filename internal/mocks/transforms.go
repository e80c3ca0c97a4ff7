package mocks

import (
	"crypto/sha1" //nolint:gosec // pulumi-eks names attachments after a SHA-1, not for security
	"encoding/hex"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// toInputMap turns property values into the inputs a resource transform
// receives, as the Go SDK does for a transform callback (unmarshalPropertyMap
// in sdk/go/pulumi/rpc.go): plain Bool, Float64, String, Array and Map.
func toInputMap(pm resource.PropertyMap) pulumi.Map {
	out := pulumi.Map{}
	for k, v := range pm {
		if in := toInput(v); in != nil {
			out[string(k)] = in
		}
	}
	return out
}

func toInput(v resource.PropertyValue) pulumi.Input {
	switch {
	case v.IsSecret():
		return pulumi.ToSecret(toInput(v.SecretValue().Element))
	case v.IsOutput():
		return toInput(v.OutputValue().Element)
	case v.IsBool():
		return pulumi.Bool(v.BoolValue())
	case v.IsNumber():
		return pulumi.Float64(v.NumberValue())
	case v.IsString():
		return pulumi.String(v.StringValue())
	case v.IsArray():
		a := pulumi.Array{}
		for _, e := range v.ArrayValue() {
			a = append(a, toInput(e))
		}
		return a
	case v.IsObject():
		return toInputMap(v.ObjectValue())
	}
	return nil
}

// fromInputMap turns a transform's result back into property values. Only
// plain values are supported: a transform of pulumi-eks's children must not
// introduce outputs the mocks cannot resolve synchronously.
func fromInputMap(m pulumi.Map) (resource.PropertyMap, error) {
	out := resource.PropertyMap{}
	for k, v := range m {
		pv, err := fromInput(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[resource.PropertyKey(k)] = pv
	}
	return out, nil
}

func fromInput(v pulumi.Input) (resource.PropertyValue, error) {
	switch x := v.(type) {
	case nil:
		return resource.NewNullProperty(), nil
	case pulumi.Bool:
		return resource.NewProperty(bool(x)), nil
	case pulumi.Float64:
		return resource.NewProperty(float64(x)), nil
	case pulumi.Int:
		return resource.NewProperty(float64(x)), nil
	case pulumi.String:
		return resource.NewProperty(string(x)), nil
	case pulumi.StringArray:
		a := []resource.PropertyValue{}
		for _, e := range x {
			pv, err := fromInput(e)
			if err != nil {
				return resource.PropertyValue{}, err
			}
			a = append(a, pv)
		}
		return resource.NewProperty(a), nil
	case pulumi.Array:
		a := []resource.PropertyValue{}
		for _, e := range x {
			pv, err := fromInput(e)
			if err != nil {
				return resource.PropertyValue{}, err
			}
			a = append(a, pv)
		}
		return resource.NewProperty(a), nil
	case pulumi.StringMap:
		m := pulumi.Map{}
		for k, e := range x {
			m[k] = e
		}
		pm, err := fromInputMap(m)
		return resource.NewProperty(pm), err
	case pulumi.Map:
		pm, err := fromInputMap(x)
		return resource.NewProperty(pm), err
	}
	return resource.PropertyValue{}, fmt.Errorf("a %T is not a plain value", v)
}

// sha1hex is the hex SHA-1 of s.
func sha1hex(s string) string {
	h := sha1.Sum([]byte(s)) //nolint:gosec // a name, not a secret
	return hex.EncodeToString(h[:])
}
