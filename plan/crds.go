package plan

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// builtinGroups are the API groups Kubernetes serves without CRDs.
var builtinGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true, "rbac.authorization.k8s.io": true,
	"networking.k8s.io": true, "storage.k8s.io": true, "admissionregistration.k8s.io": true, "apiextensions.k8s.io": true,
	"apiregistration.k8s.io": true, "coordination.k8s.io": true, "scheduling.k8s.io": true, "node.k8s.io": true,
	"discovery.k8s.io": true, "flowcontrol.apiserver.k8s.io": true, "certificates.k8s.io": true, "events.k8s.io": true,
	"resource.k8s.io": true, "storagemigration.k8s.io": true, "authentication.k8s.io": true, "authorization.k8s.io": true,
}

// crdVersion is one served version of a CRD the plan installs.
type crdVersion struct {
	crd    ClusterObject
	plural string
	scope  string
	served bool
	raw    map[string]any // the openAPIV3Schema, compiled on first use
}

// compiled holds compiled CRD schemas by the SHA-256 of their JSON: the
// same CRD is compiled once per process, however many plans use it.
var compiled sync.Map

// schema compiles the version's schema (nil when it has none).
func (cv *crdVersion) schema() (*jsonschema.Schema, error) {
	if cv.raw == nil {
		return nil, nil
	}
	b, err := json.Marshal(cv.raw)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(b)
	if s, ok := compiled.Load(key); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := compileStructural(cv.raw)
	if err != nil {
		return nil, err
	}
	compiled.Store(key, s)
	return s, nil
}

// crdIndex maps "group/version kind" to the CRD version that serves it.
func (c *clusterView) crdIndex() map[string]*crdVersion {
	if c.crds != nil {
		return c.crds
	}
	out := map[string]*crdVersion{}
	c.crds = out
	for _, o := range c.objects {
		if o.Kind != "CustomResourceDefinition" {
			continue
		}
		spec, _ := o.Body["spec"].(map[string]any)
		group, _ := spec["group"].(string)
		kind := StringAt(spec, "names", "kind")
		plural := StringAt(spec, "names", "plural")
		scope, _ := spec["scope"].(string)
		for _, v := range listOf(spec["versions"]) {
			name, _ := v["name"].(string)
			served, _ := v["served"].(bool)
			cv := &crdVersion{crd: o, plural: plural, scope: scope, served: served}
			cv.raw, _ = At(v, "schema", "openAPIV3Schema").(map[string]any)
			out[group+"/"+name+" "+kind] = cv
		}
	}
	return out
}

func checkCustomResources(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	crds := c.crdIndex()
	for _, o := range c.objects {
		if builtinGroups[o.Group()] || o.Derived {
			continue
		}
		cv, ok := crds[o.APIVersion+" "+o.Kind]
		switch {
		case !ok:
			out = append(out, c.violation(o, RuleCRD, "no CRD the plan installs serves %s %s: the API server would answer \"no matches for kind\"", o.APIVersion, o.Kind))
			continue
		case !cv.served:
			out = append(out, c.violation(o, RuleCRD, "%s %s is not served by CRD %s (served: false)", o.APIVersion, o.Kind, cv.crd.Name))
			continue
		}
		if !c.waitsFor(o.Owner, cv.crd.Owner) {
			out = append(out, c.violation(o, RuleCRD, "is created without waiting for %s, which installs its CRD %s", c.owners[cv.crd.Owner].Name, cv.crd.Name))
		}
		schema, err := cv.schema()
		if err != nil {
			out = append(out, c.violation(o, RuleCRD, "CRD %s has a schema the check cannot read: %v", cv.crd.Name, err))
			continue
		}
		if schema == nil {
			continue
		}
		body := jsonRoundTrip(o.Body)
		if err := schema.Validate(body); err != nil {
			for _, msg := range leafErrors(err) {
				out = append(out, c.violation(o, RuleCRD, "does not validate against CRD %s: %s", cv.crd.Name, msg))
			}
		}
	}
	return out
}

// leafErrors flattens a validation error into one line per failed field.
func leafErrors(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, fmt.Sprintf("at %s: %s", loc, e.Message))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return out
}

// compileStructural turns a CRD's structural OpenAPI v3 schema into a JSON
// Schema and compiles it. The API server prunes fields a schema does not
// declare (unless x-kubernetes-preserve-unknown-fields); the check refuses
// them instead, as a misspelt field would otherwise be dropped silently.
// CEL rules (x-kubernetes-validations) are not evaluated.
func compileStructural(s map[string]any) (*jsonschema.Schema, error) {
	doc := toJSONSchema(s)
	if m, ok := doc.(map[string]any); ok {
		// apiVersion, kind and metadata are checked by the API server itself.
		if props, ok := m["properties"].(map[string]any); ok {
			for _, k := range []string{"apiVersion", "kind", "metadata"} {
				if _, ok := props[k]; !ok {
					props[k] = map[string]any{}
				}
			}
		}
		m["$schema"] = "http://json-schema.org/draft-07/schema#"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft7
	if err := comp.AddResource("crd.json", strings.NewReader(string(b))); err != nil {
		return nil, err
	}
	return comp.Compile("crd.json")
}

// toJSONSchema converts one node of a structural schema.
func toJSONSchema(v any) any {
	s, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for _, k := range []string{"type", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
		"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required", "multipleOf"} {
		if e, ok := s[k]; ok {
			out[k] = e
		}
	}
	// OpenAPI v3 writes exclusive bounds as booleans; draft 7 as numbers.
	for bound, limit := range map[string]string{"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"} {
		if b, ok := out[bound].(bool); ok {
			delete(out, bound)
			if b {
				out[bound] = out[limit]
				delete(out, limit)
			}
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		conv := map[string]any{}
		for k, p := range props {
			conv[k] = toJSONSchema(p)
		}
		out["properties"] = conv
		preserve, _ := s["x-kubernetes-preserve-unknown-fields"].(bool)
		if _, set := s["additionalProperties"]; !set && !preserve {
			out["additionalProperties"] = false
		}
	}
	if ap, ok := s["additionalProperties"]; ok {
		out["additionalProperties"] = toJSONSchema(ap)
	}
	if items, ok := s["items"]; ok {
		out["items"] = toJSONSchema(items)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := s[k].([]any); ok {
			conv := make([]any, len(list))
			for i, e := range list {
				conv[i] = stripType(toJSONSchema(e))
			}
			out[k] = conv
		}
	}
	if n, ok := s["not"]; ok {
		out["not"] = stripType(toJSONSchema(n))
	}
	if ios, _ := s["x-kubernetes-int-or-string"].(bool); ios {
		delete(out, "type")
		out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
	}
	if nullable, _ := s["nullable"].(bool); nullable {
		if t, ok := out["type"].(string); ok {
			out["type"] = []any{t, "null"}
		}
	}
	return out
}

// stripType drops the additionalProperties=false that a sub-schema of
// allOf/anyOf/oneOf would otherwise impose on the fields it does not list.
func stripType(v any) any {
	if m, ok := v.(map[string]any); ok {
		if ap, ok := m["additionalProperties"].(bool); ok && !ap {
			delete(m, "additionalProperties")
		}
	}
	return v
}
