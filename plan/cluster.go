package plan

import (
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/dataplatform/dataplatform/internal/helmrender"
)

// ClusterObject is a Kubernetes object the plan puts in the cluster: one a
// Helm release renders, one the program creates, or a Pod a controller
// creates from a workload's template.
type ClusterObject struct {
	// Owner is the URN of the Pulumi resource that creates it (the release,
	// the Kubernetes resource, or the workload's release).
	Owner string
	// APIVersion, Kind, Name and Namespace identify the object.
	APIVersion, Kind, Name, Namespace string
	// Hook is the Helm hook the object runs as, if any.
	Hook string
	// Derived marks a Pod made from a workload's template, and From names
	// the workload ("Deployment ns/name").
	Derived bool
	From    string
	// Body is the object.
	Body map[string]any
}

// Key identifies the object: "Kind namespace/name".
func (o ClusterObject) Key() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Group returns the object's API group ("" for the core group).
func (o ClusterObject) Group() string {
	g, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// Labels returns the object's labels.
func (o ClusterObject) Labels() map[string]string { return stringMap(At(o.Body, "metadata", "labels")) }

// Annotations returns the object's annotations.
func (o ClusterObject) Annotations() map[string]string {
	return stringMap(At(o.Body, "metadata", "annotations"))
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, e := range m {
		if s, ok := e.(string); ok {
			out[k] = s
		}
	}
	return out
}

// ClusterObjects returns every object the plan creates in the cluster:
// rendered ones, the program's own, and the Pods of every workload and pod
// template (Airflow's task pod template included), sorted by key.
func (p *Plan) ClusterObjects() []ClusterObject {
	var out []ClusterObject
	for _, r := range p.Resources {
		if r.Type == ReleaseType {
			for _, o := range p.objects[r.URN] {
				out = append(out, ClusterObject{Owner: r.URN, APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, Namespace: o.Namespace, Hook: o.Hook, Body: o.Body})
			}
			continue
		}
		if o, ok := programObject(r); ok {
			out = append(out, o)
		}
	}
	var pods []ClusterObject
	for _, o := range out {
		pods = append(pods, derivedPods(o)...)
	}
	out = append(out, pods...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// programObject is a Kubernetes resource of the program as an object.
func programObject(r Resource) (ClusterObject, bool) {
	rest, ok := strings.CutPrefix(r.Type, "kubernetes:")
	if !ok || r.Type == ReleaseType {
		return ClusterObject{}, false
	}
	gv, kind, ok := strings.Cut(rest, ":")
	if !ok {
		return ClusterObject{}, false
	}
	apiVersion := strings.TrimPrefix(gv, "core/")
	body := map[string]any{}
	for k, v := range r.Inputs {
		body[k] = v
	}
	body["apiVersion"], body["kind"] = apiVersion, kind
	o := ClusterObject{Owner: r.URN, APIVersion: apiVersion, Kind: kind, Body: body}
	o.Name = StringAt(r.Inputs, "metadata", "name")
	o.Namespace = StringAt(r.Inputs, "metadata", "namespace")
	return o, true
}

// PodSpec returns the pod spec of a workload or Pod, if it has one.
func PodSpec(body map[string]any, kind string) (map[string]any, bool) {
	var v any
	switch kind {
	case "Pod":
		v = At(body, "spec")
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		v = At(body, "spec", "template", "spec")
	case "CronJob":
		v = At(body, "spec", "jobTemplate", "spec", "template", "spec")
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// derivedPods are the Pods that controllers create from o: one per
// workload template, and those of pod template files a ConfigMap holds
// (Airflow's KubernetesExecutor reads its task pods from one).
func derivedPods(o ClusterObject) []ClusterObject {
	var out []ClusterObject
	if o.Kind == "ConfigMap" {
		out = append(out, airbyteJobPods(o)...)
		data, _ := o.Body["data"].(map[string]any)
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, _ := data[k].(string)
			if !strings.Contains(s, "kind: Pod") {
				continue
			}
			var pod map[string]any
			if yaml.Unmarshal([]byte(s), &pod) != nil || pod["kind"] != "Pod" {
				continue
			}
			name := StringAt(pod, "metadata", "name")
			if name == "" {
				name = o.Name + "-" + k
			}
			out = append(out, ClusterObject{Owner: o.Owner, APIVersion: "v1", Kind: "Pod", Name: name, Namespace: o.Namespace,
				Derived: true, From: o.Key() + " data." + k, Body: pod})
		}
		return out
	}
	var template any
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		template = At(o.Body, "spec", "template")
	case "CronJob":
		template = At(o.Body, "spec", "jobTemplate", "spec", "template")
	}
	t, ok := template.(map[string]any)
	if !ok {
		return nil
	}
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": t["metadata"], "spec": t["spec"]}
	if pod["metadata"] == nil {
		pod["metadata"] = map[string]any{}
	}
	return []ClusterObject{{Owner: o.Owner, APIVersion: "v1", Kind: "Pod", Name: o.Name + "-pod", Namespace: o.Namespace,
		Hook: o.Hook, Derived: true, From: o.Key(), Body: pod}}
}

// clusterScopedKind reports kinds without a namespace.
func clusterScopedKind(kind string) bool { return helmrender.ClusterScoped(kind) }

// RunsUserCode reports whether o is a pod that runs code the platform's
// users bring rather than the platform's own: Airflow's task pods (from
// the KubernetesExecutor's pod template) and Airbyte's job pods (whose
// source and destination containers are third-party connectors).
func RunsUserCode(o ClusterObject) bool {
	return o.Kind == "Pod" && o.Derived && (strings.Contains(o.From, "JOB_KUBE_") || strings.Contains(o.From, "pod_template_file"))
}
