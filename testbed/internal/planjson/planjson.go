// Package planjson reads the offline plan of a stack, as `go run ./cmd/plan
// -stack <stack> -json` writes it: every resource with its inputs, and the
// objects each Helm release renders. The test bed configures every piece of
// software it runs from this file, never from settings copied by hand.
package planjson

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Secret is the plan's mask for a secret value.
const Secret = "[secret]"

// Plan is a stack's plan.
type Plan struct {
	Stack     string         `json:"stack"`
	Resources []Resource     `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
}

// Resource is one planned resource.
type Resource struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// ID is the physical ID the plan's fake AWS gave the resource.
	ID           string         `json:"id"`
	Parent       string         `json:"parent"`
	Dependencies []string       `json:"dependencies"`
	Rendered     map[string]any `json:"rendered,omitempty"`
	Inputs       map[string]any `json:"inputs"`
}

// Read reads a plan written by cmd/plan -json.
func Read(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: not a plan: %w", path, err)
	}
	return &p, nil
}

// Find returns the resources of a type, in the plan's order.
func (p *Plan) Find(typ string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// One returns the resource of a type and name, or an error naming both.
func (p *Plan) One(typ, name string) (Resource, error) {
	for _, r := range p.Resources {
		if r.Type == typ && r.Name == name {
			return r, nil
		}
	}
	return Resource{}, fmt.Errorf("the plan of %s has no %s %q", p.Stack, typ, name)
}

// Output returns a stack output as a string ("" when absent).
func (p *Plan) Output(name string) string {
	s, _ := p.Outputs[name].(string)
	return s
}

// Objects returns every Kubernetes object the stack creates: the program's
// own (resources of a kubernetes:<group>/<version>:<Kind> type) and every
// object a Helm release renders, each with the release that renders it
// ("" for the program's own).
func (p *Plan) Objects() []Object {
	var out []Object
	for _, r := range p.Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") || strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
			continue
		}
		out = append(out, Object{Map: r.Inputs, Resource: r.Name})
	}
	for _, r := range p.Find("kubernetes:helm.sh/v3:Release") {
		keys := make([]string, 0, len(r.Rendered))
		for k := range r.Rendered {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m, ok := r.Rendered[k].(map[string]any)
			if !ok {
				continue
			}
			release, _ := r.Inputs["name"].(string)
			ns, _ := r.Inputs["namespace"].(string)
			o := Object{Map: m, Release: release, Resource: r.Name, Hook: strings.Contains(k, "(hook")}
			if o.Namespace() == "" && ns != "" && namespaced(o.Kind()) {
				md := o.meta()
				md["namespace"] = ns
			}
			out = append(out, o)
		}
	}
	return out
}

// Object is one Kubernetes object of the plan.
type Object struct {
	Map map[string]any
	// Release renders it ("" for an object the program creates itself);
	// Resource is the plan resource behind it.
	Release, Resource string
	// Hook is a Helm hook (such as the migration Job).
	Hook bool
}

func (o Object) meta() map[string]any {
	m, _ := o.Map["metadata"].(map[string]any)
	if m == nil {
		m = map[string]any{}
		o.Map["metadata"] = m
	}
	return m
}

// Kind, Namespace and Name identify the object.
func (o Object) Kind() string { s, _ := o.Map["kind"].(string); return s }

// Namespace is the object's namespace ("" for a cluster-scoped one).
func (o Object) Namespace() string { s, _ := o.meta()["namespace"].(string); return s }

// Name is metadata.name ("" when Pulumi names the object).
func (o Object) Name() string { s, _ := o.meta()["name"].(string); return s }

// Key is "Kind namespace/name".
func (o Object) Key() string { return o.Kind() + " " + o.Namespace() + "/" + o.Name() }

// Labels are metadata.labels.
func (o Object) Labels() map[string]string { return Strings(o.meta()["labels"]) }

// Annotations are metadata.annotations.
func (o Object) Annotations() map[string]string { return Strings(o.meta()["annotations"]) }

// Decode converts the object (or any plan value) into v through JSON.
func Decode(in, v any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Strings converts a JSON object of strings.
func Strings(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

func namespaced(kind string) bool {
	switch kind {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "IngressClass",
		"IngressClassParams", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "PriorityClass",
		"StorageClass", "PersistentVolume", "NodePool", "EC2NodeClass", "ClusterSecretStore":
		return false
	}
	return true
}

// Find returns the object of a kind, namespace and name.
func Find(objs []Object, kind, namespace, name string) (Object, bool) {
	for _, o := range objs {
		if o.Kind() == kind && o.Namespace() == namespace && o.Name() == name {
			return o, true
		}
	}
	return Object{}, false
}
