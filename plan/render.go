package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/internal/helmrender"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// ReleaseType is the Pulumi type of a Helm release.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// defaultKubeVersion is used when the plan has no EKS cluster (a program
// that installs onto a cluster it does not create).
const defaultKubeVersion = "1.35"

// Object is a Kubernetes object a Helm release creates, as its chart renders
// it for the release's values.
type Object = helmrender.Object

// renderReleases renders every Helm release of the plan with its vendored
// chart, in dependency order (a release sees the CRDs of the releases it
// waits for), and keeps the objects on the plan. dir is the project
// directory the chart paths are relative to.
func (p *Plan) renderReleases(dir string) []mocks.Violation {
	var problems []mocks.Violation
	kube := defaultKubeVersion
	for _, r := range p.Resources {
		if r.Type == "aws:eks/cluster:Cluster" {
			if v := StringAt(r.Inputs, "version"); v != "" {
				kube = v
			}
		}
	}
	p.objects = map[string][]Object{}
	for _, i := range p.releaseOrder() {
		r := &p.Resources[i]
		fail := func(input, format string, args ...any) {
			problems = append(problems, mocks.Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: input, Rule: RuleRender, Message: fmt.Sprintf(format, args...)})
		}
		chart, version := StringAt(r.Inputs, "chart"), StringAt(r.Inputs, "version")
		archive, err := charts.Read(dir, chart)
		if err != nil {
			fail("chart", "%v", err)
			continue
		}
		meta, err := helmrender.Metadata(archive)
		if err != nil {
			fail("chart", "%s: %v", chart, err)
			continue
		}
		if version != "" && meta.Version != version {
			fail("version", "%q, but %s holds chart %s version %s", version, chart, meta.Name, meta.Version)
			continue
		}
		values, _ := r.Inputs["values"].(map[string]any)
		skipCRDs, _ := r.Inputs["skipCrds"].(bool)
		objs, err := helmrender.Render(archive, helmrender.Release{
			Name:        StringAt(r.Inputs, "name"),
			Namespace:   StringAt(r.Inputs, "namespace"),
			Values:      values,
			KubeVersion: kube,
			APIVersions: p.apiVersionsBefore(r.URN),
			IncludeCRDs: !skipCRDs,
		})
		if err != nil {
			fail("values", "%v", err)
			continue
		}
		p.objects[r.URN] = objs
		r.Rendered = map[string]any{}
		for _, o := range objs {
			k := o.Key()
			if o.Hook != "" {
				k += " (hook " + o.Hook + ")"
			}
			r.Rendered[k] = shown(o)
		}
	}
	return problems
}

// releaseOrder returns the indexes of the releases, each after those it
// waits for.
func (p *Plan) releaseOrder() []int {
	var idx []int
	for i, r := range p.Resources {
		if r.Type == ReleaseType {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return len(p.Closure(p.Resources[idx[a]].URN)) < len(p.Closure(p.Resources[idx[b]].URN))
	})
	return idx
}

// Closure returns every URN that urn waits for, directly or not: its
// dependencies, theirs, and so on.
func (p *Plan) Closure(urn string) map[string]bool {
	if p.byURN == nil {
		p.byURN = map[string]int{}
		for i, r := range p.Resources {
			p.byURN[r.URN] = i
		}
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(u string) {
		i, ok := p.byURN[u]
		if !ok {
			return
		}
		for _, d := range p.Resources[i].Dependencies {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(urn)
	return seen
}

// apiVersionsBefore lists the group/versions of the CRDs that the releases
// urn waits for install.
func (p *Plan) apiVersionsBefore(urn string) []string {
	set := map[string]bool{}
	for dep := range p.Closure(urn) {
		for _, o := range p.objects[dep] {
			if o.Kind != "CustomResourceDefinition" {
				continue
			}
			spec, _ := o.Body["spec"].(map[string]any)
			group, _ := spec["group"].(string)
			vs, _ := spec["versions"].([]any)
			for _, v := range vs {
				vm, _ := v.(map[string]any)
				if name, _ := vm["name"].(string); name != "" {
					set[group+"/"+name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shown is an object as the plan shows it: a Secret's values are masked,
// and a CRD's schema is shown as its digest (the schemas run to hundreds of
// kilobytes; a change of schema changes the digest).
func shown(o Object) map[string]any {
	body := o.Body
	switch o.Kind {
	case "Secret":
		body = copyMap(body)
		for _, k := range []string{"data", "stringData"} {
			if m, ok := body[k].(map[string]any); ok {
				masked := map[string]any{}
				for key := range m {
					masked[key] = SecretMarker
				}
				body[k] = masked
			}
		}
	case "CustomResourceDefinition":
		spec, _ := body["spec"].(map[string]any)
		b, _ := json.Marshal(spec)
		sum := sha256.Sum256(b)
		summary := map[string]any{"group": spec["group"], "names": spec["names"], "scope": spec["scope"], "specSHA256": hex.EncodeToString(sum[:])}
		var versions []any
		vs, _ := spec["versions"].([]any)
		for _, v := range vs {
			vm, _ := v.(map[string]any)
			versions = append(versions, map[string]any{"name": vm["name"], "served": vm["served"], "storage": vm["storage"]})
		}
		summary["versions"] = versions
		body = map[string]any{"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": body["metadata"], "spec": summary}
	}
	return body
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Objects returns the objects the Helm release urn creates, as its chart
// renders them (Secrets included, unmasked values are the chart's own).
func (p *Plan) Objects(urn string) []Object { return p.objects[urn] }

// AllObjects returns every rendered object of every release, by release URN.
func (p *Plan) AllObjects() map[string][]Object { return p.objects }

// renderedCounts summarizes a release's objects for the tree: "2
// Deployment, 1 Service".
func renderedCounts(r Resource) string {
	counts := map[string]int{}
	for k := range r.Rendered {
		kind, _, _ := strings.Cut(k, " ")
		counts[kind]++
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}
