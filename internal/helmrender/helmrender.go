// Package helmrender renders a Helm chart archive the way `helm install`
// does, without a cluster: Helm's own loader, values coalescing and schema
// validation (chartutil), template engine and manifest sorting (releaseutil),
// for a given release name, namespace, values and Kubernetes version.
//
// Helm's engine is used rather than notes about what templates read: a chart
// bump or a values change then shows exactly the objects and fields it
// changes, and a value the chart's schema refuses fails here as it would in
// `pulumi up`.
package helmrender

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// Generated replaces a value the chart generates anew at every render
// (random passwords, self-signed certificates, checksums of them): it is not
// known before install, and showing it would make plans differ run to run.
const Generated = "[generated at install]"

// Release is what to render.
type Release struct {
	// Name and Namespace of the release.
	Name, Namespace string
	// Values are the release's values (the chart's defaults fill the rest).
	Values map[string]any
	// KubeVersion is the cluster's Kubernetes version, such as "1.35".
	KubeVersion string
	// APIVersions are group/versions the cluster serves beyond the built-in
	// ones (CRDs installed before), such as "karpenter.sh/v1".
	APIVersions []string
	// IncludeCRDs installs the chart's crds/ folder (Helm does unless
	// skipCrds).
	IncludeCRDs bool
}

// Object is one Kubernetes object the release creates.
type Object struct {
	// APIVersion, Kind, Name and Namespace identify it; Namespace is the
	// release's for namespaced kinds that name none.
	APIVersion, Kind, Name, Namespace string
	// Hook is the Helm hook it runs as ("pre-install,pre-upgrade"), or "".
	Hook string
	// Source is the chart file it comes from.
	Source string
	// Body is the whole object.
	Body map[string]any
}

// Key identifies the object in a release: "Kind namespace/name".
func (o Object) Key() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

var cache sync.Map // digest of archive and release -> []Object

// Render renders archive (a packaged chart) for r. It renders twice (the
// second time only the templates that may generate values) and marks every
// string that differs between the two as Generated.
func Render(archive []byte, r Release) ([]Object, error) {
	key, err := cacheKey(archive, r)
	if err != nil {
		return nil, err
	}
	if v, ok := cache.Load(key); ok {
		return copyObjects(v.([]Object)), nil
	}
	// The second render, side by side with the first, renders only the
	// templates that can generate values (see generating): the others
	// render the same every time, and rendering them again doubled the
	// plan's time.
	var second []Object
	var secondErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		second, secondErr = renderFiltered(archive, r, true)
	}()
	first, err := render(archive, r)
	<-done
	if err != nil {
		return nil, err
	}
	if secondErr != nil {
		return nil, secondErr
	}
	again := make(map[string]Object, len(second))
	for _, o := range second {
		again[o.Key()+"\x00"+o.Hook] = o
	}
	for i := range first {
		if o, ok := again[first[i].Key()+"\x00"+first[i].Hook]; ok {
			first[i].Body = stabilize(first[i].Body, o.Body).(map[string]any)
		}
	}
	cache.Store(key, first)
	return copyObjects(first), nil
}

func cacheKey(archive []byte, r Release) (string, error) {
	h := sha256.New()
	h.Write(archive)
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyObjects(in []Object) []Object {
	out := make([]Object, len(in))
	for i, o := range in {
		b, _ := json.Marshal(o.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		o.Body = body
		out[i] = o
	}
	return out
}

// render renders once.
func render(archive []byte, r Release) ([]Object, error) { return renderFiltered(archive, r, false) }

// renderFiltered renders once; with onlyGenerating, only the templates
// that may generate values, unless the values themselves could (tpl).
func renderFiltered(archive []byte, r Release, onlyGenerating bool) ([]Object, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("loading the chart: %w", err)
	}
	if onlyGenerating {
		if b, _ := json.Marshal(r.Values); !generatingFunc.Match(b) {
			keepGenerating(ch, sha256.Sum256(archive))
		}
	}
	caps := chartutil.DefaultCapabilities.Copy()
	kv, err := chartutil.ParseKubeVersion("v" + strings.TrimPrefix(r.KubeVersion, "v") + ".0")
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", r.KubeVersion, err)
	}
	caps.KubeVersion = *kv
	caps.APIVersions = append(caps.APIVersions, r.APIVersions...)
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s %s requires kubeVersion %s, which Kubernetes %s is not", ch.Name(), ch.Metadata.Version, ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	// As helm install does: drop the subcharts whose condition is false.
	if err := chartutil.ProcessDependenciesWithMerge(ch, r.Values); err != nil {
		return nil, fmt.Errorf("dependencies of chart %s: %w", ch.Name(), err)
	}
	var crds []Object
	if r.IncludeCRDs {
		// helm install creates the crds/ folder first, so the templates
		// see those APIs in .Capabilities.
		for _, crd := range ch.CRDObjects() {
			objs, err := parse(crd.Filename, string(crd.File.Data), "", r.Namespace)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				caps.APIVersions = append(caps.APIVersions, crdGroupVersions(o)...)
			}
			crds = append(crds, objs...)
		}
	}
	values, err := chartutil.ToRenderValues(ch, r.Values, chartutil.ReleaseOptions{
		Name: r.Name, Namespace: r.Namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, fmt.Errorf("values of release %s: %w", r.Name, err)
	}
	var e engine.Engine
	files, err := e.Render(ch, values)
	if err != nil {
		return nil, fmt.Errorf("rendering release %s: %w", r.Name, err)
	}
	for k := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(files, k)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("release %s renders invalid YAML: %w", r.Name, err)
	}
	out := crds
	for _, m := range manifests {
		objs, err := parse(m.Name, m.Content, "", r.Namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	for _, h := range hooks {
		var events []string
		for _, e := range h.Events {
			if !strings.HasPrefix(string(e), "test") { // `helm test` runs those, not install
				events = append(events, string(e))
			}
		}
		if len(events) == 0 {
			continue
		}
		objs, err := parse(h.Path, h.Manifest, strings.Join(events, ","), r.Namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// parse reads the YAML documents of one file.
func parse(source, content, hook, namespace string) ([]Object, error) {
	var out []Object
	for _, doc := range releaseutil.SplitManifests(content) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var body map[string]any
		if err := yaml.Unmarshal([]byte(doc), &body); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if body == nil {
			continue
		}
		if body["kind"] == "List" { // the API client creates a List's items one by one
			items, _ := body["items"].([]any)
			for _, it := range items {
				b, _ := yaml.Marshal(it)
				objs, err := parse(source, string(b), hook, namespace)
				if err != nil {
					return nil, err
				}
				out = append(out, objs...)
			}
			continue
		}
		o := Object{Hook: hook, Source: path.Clean(source), Body: body}
		o.APIVersion, _ = body["apiVersion"].(string)
		o.Kind, _ = body["kind"].(string)
		meta, _ := body["metadata"].(map[string]any)
		o.Name, _ = meta["name"].(string)
		o.Namespace, _ = meta["namespace"].(string)
		if o.Namespace == "" && !ClusterScoped(o.Kind) {
			o.Namespace = namespace
		}
		out = append(out, o)
	}
	return out, nil
}

// crdGroupVersions returns the "group/version" of each version a CRD serves.
func crdGroupVersions(o Object) []string {
	if o.Kind != "CustomResourceDefinition" {
		return nil
	}
	spec, _ := o.Body["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	versions, _ := spec["versions"].([]any)
	var out []string
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if name, _ := vm["name"].(string); name != "" {
			out = append(out, group+"/"+name)
		}
	}
	return out
}

// clusterScoped are the kinds without a namespace that charts render.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"StorageClass": true, "ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"PriorityClass": true, "IngressClass": true, "APIService": true, "PersistentVolume": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "CSIDriver": true,
	"ClusterSecretStore": true, "ClusterExternalSecret": true, "ClusterGenerator": true, "ClusterPushSecret": true,
	"NodePool": true, "NodeClaim": true, "EC2NodeClass": true, "IngressClassParams": true,
}

// ClusterScoped reports whether objects of kind have no namespace.
func ClusterScoped(kind string) bool { return clusterScoped[kind] }

// generatingFunc matches the template functions whose output differs from
// render to render (sprig's random and crypto generators, the clock).
var generatingFunc = regexp.MustCompile(`\b(rand[A-Z][A-Za-z]*|uuidv4|gen[A-Z][A-Za-z]*|now|date|dateInZone|unixEpoch|shuffle)\b`)

// defineName matches a named template's definition.
var defineName = regexp.MustCompile(`\{\{-?\s*define\s+"([^"]+)"`)

// keepGenerating drops, from ch and its subcharts, the templates that
// cannot generate a value: those that neither call a generating function
// nor include a named template that may (transitively). Helpers (files
// named _*) stay, for the templates kept to call.
func keepGenerating(ch *chart.Chart, digest [32]byte) {
	all := []*chart.Chart{ch}
	for i := 0; i < len(all); i++ {
		all = append(all, all[i].Dependencies()...)
	}
	kept, ok := keptCache.Load(digest)
	if !ok {
		kept = generatingTemplates(all)
		keptCache.Store(digest, kept)
	}
	for _, c := range all {
		var keep []*chart.File
		for _, t := range c.Templates {
			if kept.(map[string]bool)[c.ChartFullPath()+"/"+t.Name] {
				keep = append(keep, t)
			}
		}
		c.Templates = keep
	}
}

// keptCache holds, by archive digest, the templates keepGenerating keeps.
var keptCache sync.Map

// generatingTemplates are the templates of the charts all that may
// generate a value, and the helpers, by chart path and name.
func generatingTemplates(all []*chart.Chart) map[string]bool {
	// Named templates defined in a file that generates, or that includes
	// one of those, may generate: grow the set to a fixpoint.
	tainted := map[string]bool{}
	generates := func(data string) bool {
		if generatingFunc.MatchString(data) {
			return true
		}
		for name := range tainted {
			if strings.Contains(data, `"`+name+`"`) {
				return true
			}
		}
		return false
	}
	for changed := true; changed; {
		changed = false
		for _, c := range all {
			for _, t := range c.Templates {
				if !generates(string(t.Data)) {
					continue
				}
				for _, m := range defineName.FindAllStringSubmatch(string(t.Data), -1) {
					if !tainted[m[1]] {
						tainted[m[1]], changed = true, true
					}
				}
			}
		}
	}
	kept := map[string]bool{}
	for _, c := range all {
		for _, t := range c.Templates {
			if strings.HasPrefix(path.Base(t.Name), "_") || generates(string(t.Data)) {
				kept[c.ChartFullPath()+"/"+t.Name] = true
			}
		}
	}
	return kept
}

// stabilize returns a with Generated in place of every string that differs
// from b.
func stabilize(a, b any) any {
	switch x := a.(type) {
	case map[string]any:
		y, _ := b.(map[string]any)
		for k, v := range x {
			x[k] = stabilize(v, y[k])
		}
		return x
	case []any:
		y, _ := b.([]any)
		for i, v := range x {
			var w any
			if i < len(y) {
				w = y[i]
			}
			x[i] = stabilize(v, w)
		}
		return x
	case string:
		if s, ok := b.(string); !ok || s != x {
			return Generated
		}
	}
	return a
}

// Chart is a chart's name and version, from its Chart.yaml.
type Chart struct {
	Name, Version, AppVersion string
}

// Metadata reads the Chart.yaml of an archive.
func Metadata(archive []byte) (Chart, error) {
	digest := sha256.Sum256(archive)
	if c, ok := metadataCache.Load(digest); ok {
		return c.(Chart), nil
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return Chart{}, err
	}
	c := Chart{Name: ch.Metadata.Name, Version: ch.Metadata.Version, AppVersion: ch.Metadata.AppVersion}
	metadataCache.Store(digest, c)
	return c, nil
}

// metadataCache holds each archive's Chart, by digest.
var metadataCache sync.Map
