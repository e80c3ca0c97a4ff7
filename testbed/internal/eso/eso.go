// Package eso stands in for the External Secrets Operator, whose controller
// at the chart's version cannot be had here (v1.x and v2.x of
// github.com/external-secrets/external-secrets are refused by the module
// proxy). It does what the operator does with the plan's ExternalSecrets:
// reads each remoteRef (a secret's JSON, and a property of it) from a store
// of secret values, and renders the target Secret, through the target's
// template when there is one (engine v2: Go text/template with Sprig's
// functions, as pkg/template/v2 of the operator uses).
package eso

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Store answers a secret's value (SecretString) by ARN.
type Store interface {
	SecretString(arn string) (string, error)
}

// ExternalSecret is the part of external-secrets.io/v1 ExternalSecret the
// platform uses.
type ExternalSecret struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key      string `json:"key"`
				Property string `json:"property"`
			} `json:"remoteRef"`
		} `json:"data"`
		Target struct {
			Name     string `json:"name"`
			Template *struct {
				EngineVersion string            `json:"engineVersion"`
				Data          map[string]string `json:"data"`
			} `json:"template"`
		} `json:"target"`
	} `json:"spec"`
}

// Refs lists every (ARN, property) the plan's ExternalSecrets read, so a
// store of test values can hold exactly those.
func Refs(objs []planjson.Object) map[string][]string {
	out := map[string][]string{}
	for _, o := range objs {
		if o.Kind() != "ExternalSecret" {
			continue
		}
		var es ExternalSecret
		if planjson.Decode(o.Map, &es) != nil {
			continue
		}
		for _, d := range es.Spec.Data {
			out[d.RemoteRef.Key] = appendOnce(out[d.RemoteRef.Key], d.RemoteRef.Property)
		}
	}
	return out
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	list = append(list, s)
	sort.Strings(list)
	return list
}

// Sync renders every ExternalSecret among objs into a Secret object, as the
// operator would once synced; an error names the ExternalSecret and the
// remote reference the store could not answer.
func Sync(objs []planjson.Object, store Store) ([]planjson.Object, error) {
	var out []planjson.Object
	for _, o := range objs {
		if o.Kind() != "ExternalSecret" {
			continue
		}
		var es ExternalSecret
		if err := planjson.Decode(o.Map, &es); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		data, err := render(es, store)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		name := es.Spec.Target.Name
		if name == "" {
			name = es.Metadata.Name
		}
		out = append(out, planjson.Object{Resource: o.Resource, Map: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": name, "namespace": es.Metadata.Namespace},
			"stringData": data,
		}})
	}
	return out, nil
}

func render(es ExternalSecret, store Store) (map[string]any, error) {
	values := map[string]string{}
	for _, d := range es.Spec.Data {
		raw, err := store.SecretString(d.RemoteRef.Key)
		if err != nil {
			return nil, err
		}
		v := raw
		if d.RemoteRef.Property != "" {
			var m map[string]any
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				return nil, fmt.Errorf("secret %s is not JSON, so it has no property %q", d.RemoteRef.Key, d.RemoteRef.Property)
			}
			p, ok := m[d.RemoteRef.Property]
			if !ok {
				return nil, fmt.Errorf("secret %s has no property %q", d.RemoteRef.Key, d.RemoteRef.Property)
			}
			if s, ok := p.(string); ok {
				v = s
			} else {
				b, _ := json.Marshal(p)
				v = string(b)
			}
		}
		values[d.SecretKey] = v
	}
	out := map[string]any{}
	t := es.Spec.Target.Template
	if t == nil || len(t.Data) == 0 {
		for k, v := range values {
			out[k] = v
		}
		return out, nil
	}
	if t.EngineVersion != "" && t.EngineVersion != "v2" {
		return nil, fmt.Errorf("template engine %q is not modelled", t.EngineVersion)
	}
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	for k, text := range t.Data {
		tpl, err := template.New(k).Option("missingkey=error").Funcs(funcs).Parse(text)
		if err != nil {
			return nil, fmt.Errorf("template of key %s: %w", k, err)
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, values); err != nil {
			return nil, fmt.Errorf("template of key %s: %w", k, err)
		}
		out[k] = b.String()
	}
	return out, nil
}
