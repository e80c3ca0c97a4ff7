package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Await waits for an object as pulumi-kubernetes' create awaits it
// (provider/pkg/await): a Deployment until it is Available with every
// replica updated and ready, a StatefulSet until every replica is ready
// at the update revision, a Job until it completes, a Pod until Ready, a
// Service with a selector until it has a ready endpoint, an Ingress until
// its load balancer is in its status, a CRD until Established, a claim
// until Bound. Other kinds are done once applied.
func (c *Cluster) Await(ctx context.Context, u *unstructured.Unstructured, timeout time.Duration) error {
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	ready := readiness(u.GetKind())
	if ready == nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	why := "not found"
	for {
		cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err == nil {
			var ok bool
			if ok, why = ready(c, ctx, cur); ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s/%s not ready after %s: %s", u.GetKind(), u.GetNamespace(), u.GetName(), timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

type readyFunc func(c *Cluster, ctx context.Context, u *unstructured.Unstructured) (bool, string)

func readiness(kind string) readyFunc {
	switch kind {
	case "Deployment":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			want := intAt(u, 1, "spec", "replicas")
			if !condition(u, "Available") || intAt(u, 0, "status", "updatedReplicas") < want || intAt(u, 0, "status", "readyReplicas") < want {
				return false, fmt.Sprintf("%d of %d replicas updated and ready", intAt(u, 0, "status", "readyReplicas"), want)
			}
			return true, ""
		}
	case "StatefulSet":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			want := intAt(u, 1, "spec", "replicas")
			cur, _, _ := unstructured.NestedString(u.Object, "status", "currentRevision")
			upd, _, _ := unstructured.NestedString(u.Object, "status", "updateRevision")
			if intAt(u, 0, "status", "readyReplicas") < want || cur != upd {
				return false, fmt.Sprintf("%d of %d replicas ready", intAt(u, 0, "status", "readyReplicas"), want)
			}
			return true, ""
		}
	case "Job":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			if condition(u, "Failed") {
				return false, "failed"
			}
			return condition(u, "Complete"), "not complete"
		}
	case "Pod":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			return condition(u, "Ready"), "not Ready"
		}
	case "CustomResourceDefinition":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			return condition(u, "Established"), "not Established"
		}
	case "PersistentVolumeClaim":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
			return phase == "Bound", "phase " + phase
		}
	case "Ingress":
		return func(_ *Cluster, _ context.Context, u *unstructured.Unstructured) (bool, string) {
			lb, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
			return len(lb) > 0, "no load balancer in its status"
		}
	case "Service":
		return func(c *Cluster, ctx context.Context, u *unstructured.Unstructured) (bool, string) {
			sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
			if len(sel) == 0 {
				return true, ""
			}
			eps, err := c.Client.CoreV1().Endpoints(u.GetNamespace()).Get(ctx, u.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, "no endpoints"
			}
			for _, s := range eps.Subsets {
				if len(s.Addresses) > 0 {
					return true, ""
				}
			}
			return false, "no ready endpoint"
		}
	}
	return nil
}

func condition(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

func intAt(u *unstructured.Unstructured, def int64, path ...string) int64 {
	v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	if !ok {
		return def
	}
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return def
}

// ingressStatus stands in for the load balancer controller, which writes
// the ALB's DNS name into an Ingress's status once AWS made it.
func (c *Cluster) ingressStatus(ctx context.Context, u *unstructured.Unstructured) error {
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	host := fmt.Sprintf("k8s-%s-%s-0000000000.us-east-1.elb.amazonaws.com", u.GetNamespace(), u.GetName())
	_ = unstructured.SetNestedSlice(cur.Object, []any{map[string]any{"hostname": host}}, "status", "loadBalancer", "ingress")
	_, err = ri.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// waitGone waits until an object no longer exists.
func (c *Cluster) waitGone(ctx context.Context, u *unstructured.Unstructured, timeout time.Duration) error {
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			fin := []string{}
			if cur != nil {
				fin = cur.GetFinalizers()
			}
			return fmt.Errorf("%s %s/%s still exists after %s (finalizers %v)", u.GetKind(), u.GetNamespace(), u.GetName(), timeout, fin)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// podRefs lists what a pod refers to that the kubelet must find before it
// starts the pod's containers (the ConfigMaps and Secrets of its volumes
// and environment that are not optional), as "Kind namespace/name".
func podRefs(p *corev1.Pod) []string {
	var out []string
	add := func(kind, name string, optional *bool) {
		if name != "" && (optional == nil || !*optional) {
			out = append(out, kind+" "+p.Namespace+"/"+name)
		}
	}
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			add("Secret", v.Secret.SecretName, v.Secret.Optional)
		}
		if v.ConfigMap != nil {
			add("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					add("Secret", s.Secret.Name, s.Secret.Optional)
				}
				if s.ConfigMap != nil {
					add("ConfigMap", s.ConfigMap.Name, s.ConfigMap.Optional)
				}
			}
		}
	}
	containers := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
	for _, ct := range containers {
		for _, e := range ct.EnvFrom {
			if e.SecretRef != nil {
				add("Secret", e.SecretRef.Name, e.SecretRef.Optional)
			}
			if e.ConfigMapRef != nil {
				add("ConfigMap", e.ConfigMapRef.Name, e.ConfigMapRef.Optional)
			}
		}
		for _, e := range ct.Env {
			if e.ValueFrom == nil {
				continue
			}
			if s := e.ValueFrom.SecretKeyRef; s != nil {
				add("Secret", s.Name, s.Optional)
			}
			if s := e.ValueFrom.ConfigMapKeyRef; s != nil {
				add("ConfigMap", s.Name, s.Optional)
			}
		}
	}
	return out
}
