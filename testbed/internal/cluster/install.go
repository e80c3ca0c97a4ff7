package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// ReleaseType is a Helm release's type in the plan.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// Step is one resource `pulumi up` created, and how long it took with its
// wait.
type Step struct {
	Type, Name string
	Took       time.Duration
}

// FieldManager is the field manager the program's objects are applied with,
// as pulumi-kubernetes names its own.
const FieldManager = "pulumi-kubernetes"

// Up creates what the plan creates in the cluster, as `pulumi up` does:
// each resource once everything it depends on is done (a component's
// children, for a dependency on a component), the others at the same time
// (Pulumi's parallelism is unbounded by default); a program object by
// server-side apply and its await (Await), a release by Helm's install
// action from the vendored chart with the plan's values and
// pulumi-kubernetes' waits. repo is the checkout the plan's chart paths
// are relative to. Values the plan masks are substituted (TestValues). It
// returns every step that finished, and the first failure.
func (c *Cluster) Up(ctx context.Context, p *planjson.Plan, repo string, logf func(string, ...any)) ([]Step, error) {
	return schedule(p, false, func(r planjson.Resource) (bool, error) {
		switch {
		case r.Type == ReleaseType:
			if err := c.installRelease(ctx, r, repo, logf); err != nil {
				return true, fmt.Errorf("release %s: %w", r.Name, err)
			}
		case IsObject(r):
			if err := c.applyObject(ctx, r); err != nil {
				return true, fmt.Errorf("%s %s: %w", r.Type, r.Name, err)
			}
		default:
			return false, nil
		}
		return true, nil
	}, logf)
}

// IsObject says whether a plan resource is a Kubernetes object the program
// creates itself.
func IsObject(r planjson.Resource) bool {
	if !strings.HasPrefix(r.Type, "kubernetes:") || r.Type == ReleaseType {
		return false
	}
	k, _ := r.Inputs["kind"].(string)
	return k != ""
}

// Object is a plan resource's object with the plan's masks substituted and
// a name where Pulumi would make one.
func Object(r planjson.Resource) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: TestValues(r.Inputs, "").(map[string]any)}
	if u.GetName() == "" {
		// Pulumi names it (the plan's ID is the name it gave).
		name := r.ID
		if _, n, ok := strings.Cut(r.ID, "/"); ok {
			name = n
		}
		if name == "" {
			name = r.Name + "-tb0000"
		}
		u.SetName(name)
	}
	return u
}

// TestValues returns v with every value the plan masks ("[secret]")
// replaced by a test value named after its path, as the bed has no secret
// values (stand-in for the stack's secrets).
func TestValues(v any, path string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = TestValues(x, path+"."+k)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = TestValues(x, fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	case string:
		if t == planjson.Secret {
			return "testbed-value-of" + strings.ReplaceAll(path, ".", "-")
		}
	}
	return v
}

// resourceFor maps an object's kind to its API resource, refreshing the
// discovery cache once when the kind is new (a CRD just made).
func (c *Cluster) resourceFor(u *unstructured.Unstructured) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	if c.mapper == nil {
		c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	}
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		c.mapper.Reset()
		if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, nil, err
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := u.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		return c.Dyn.Resource(m.Resource).Namespace(ns), m, nil
	}
	return c.Dyn.Resource(m.Resource), m, nil
}

// applyObject applies a program object and waits as pulumi-kubernetes
// waits for it.
func (c *Cluster) applyObject(ctx context.Context, r planjson.Resource) error {
	u := Object(r)
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(u.Object)
	if _, err := ri.Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: ptr(true)}); err != nil {
		return err
	}
	switch u.GetKind() {
	case "ExternalSecret":
		if err := c.syncSecret(ctx, u); err != nil {
			return err
		}
	case "Ingress":
		if err := c.ingressStatus(ctx, u); err != nil {
			return err
		}
	case "CustomResourceDefinition":
		c.mapper.Reset()
	}
	if u.GetAnnotations()["pulumi.com/skipAwait"] == "true" {
		return nil
	}
	return c.Await(ctx, u, 10*time.Minute)
}

// installRelease installs a release as pulumi-kubernetes' Release create
// does (provider/pkg/provider/helm_release.go): Helm's install action, the
// chart from its path, Wait unless skipAwait (always with atomic),
// waitForJobs, the release's timeout (300 s unless set), createNamespace,
// skipCrds.
func (c *Cluster) installRelease(ctx context.Context, r planjson.Resource, repo string, logf func(string, ...any)) error {
	in := r.Inputs
	ns, _ := in["namespace"].(string)
	cfg, err := c.helm(ns, logf)
	if err != nil {
		return err
	}
	path, _ := in["chart"].(string)
	if !filepath.IsAbs(path) {
		path = filepath.Join(repo, path)
	}
	chrt, err := loader.Load(path)
	if err != nil {
		return err
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName, _ = in["name"].(string)
	inst.Namespace = ns
	inst.Version, _ = in["version"].(string)
	inst.Wait = !flag(in, "skipAwait")
	inst.WaitForJobs = flag(in, "waitForJobs")
	inst.Atomic = flag(in, "atomic")
	inst.CreateNamespace = flag(in, "createNamespace")
	inst.SkipCRDs = flag(in, "skipCrds")
	inst.DisableHooks = flag(in, "disableWebhooks")
	inst.Timeout = 300 * time.Second
	if t, ok := in["timeout"].(float64); ok && t > 0 {
		inst.Timeout = time.Duration(t) * time.Second
	}
	inst.Timeout = min(inst.Timeout, c.WaitCap)
	values, _ := TestValues(in["values"], "values").(map[string]any)
	if _, err := inst.RunWithContext(ctx, chrt, values); err != nil {
		return err
	}
	c.mapper.Reset() // the release may have made CRDs
	return nil
}

// helm is Helm's action configuration for a namespace, as the admin.
func (c *Cluster) helm(ns string, logf func(string, ...any)) (*action.Configuration, error) {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &c.Kubeconfig
	flags.Namespace = &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", func(format string, v ...any) {
		if strings.Contains(format, "rror") || strings.HasPrefix(format, "Starting delete") {
			logf("helm: "+format, v...)
		}
	}); err != nil {
		return nil, err
	}
	if c.mapper == nil {
		c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	}
	return cfg, nil
}

func flag(m map[string]any, k string) bool { b, _ := m[k].(bool); return b }

func ptr[T any](v T) *T { return &v }

// gvr is a group, version and resource.
func gvr(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}
