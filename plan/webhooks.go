package plan

import (
	"slices"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// pluralOf is the resource name of the built-in kinds, as webhook rules
// name them.
var pluralOf = map[string]string{
	"Pod": "pods", "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets", "ServiceAccount": "serviceaccounts",
	"Namespace": "namespaces", "PersistentVolumeClaim": "persistentvolumeclaims", "Endpoints": "endpoints",
	"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "ReplicaSet": "replicasets",
	"Job": "jobs", "CronJob": "cronjobs", "Ingress": "ingresses", "IngressClass": "ingressclasses", "NetworkPolicy": "networkpolicies",
	"Role": "roles", "RoleBinding": "rolebindings", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
	"PodDisruptionBudget": "poddisruptionbudgets", "StorageClass": "storageclasses", "PriorityClass": "priorityclasses",
	"CustomResourceDefinition": "customresourcedefinitions", "HorizontalPodAutoscaler": "horizontalpodautoscalers",
	"ValidatingWebhookConfiguration": "validatingwebhookconfigurations", "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
}

// webhook is one admission webhook that fails closed.
type webhook struct {
	config ClusterObject
	name   string
	body   map[string]any
}

// failClosedHooks returns every admission webhook of the plan that fails
// closed.
func (c *clusterView) failClosedHooks() []webhook {
	var hooks []webhook
	for _, o := range c.objects {
		if o.Kind != "ValidatingWebhookConfiguration" && o.Kind != "MutatingWebhookConfiguration" {
			continue
		}
		for _, w := range listOf(o.Body["webhooks"]) {
			// admissionregistration.k8s.io/v1 defaults failurePolicy to Fail.
			if fp, _ := w["failurePolicy"].(string); fp == "" || fp == "Fail" {
				name, _ := w["name"].(string)
				hooks = append(hooks, webhook{config: o, name: name, body: w})
			}
		}
	}
	return hooks
}

func checkWebhookOrder(c *clusterView) []mocks.Violation {
	hooks := c.failClosedHooks()
	crds := c.crdIndex()
	namespaces := c.namespaces()
	var out []mocks.Violation
	for _, o := range c.objects {
		for _, h := range hooks {
			if o.Owner == h.config.Owner {
				continue // a chart's own objects install before its webhook configuration
			}
			if !h.intercepts(o, crds, namespaces) || c.waitsFor(o.Owner, h.config.Owner) {
				continue
			}
			out = append(out, c.violation(o, RuleWebhookOrder,
				"is created while %s, whose webhook %s intercepts it and fails closed, may not be ready: wait for that release, or the first install can fail with \"failed calling webhook\"",
				c.owners[h.config.Owner].Name, h.name))
		}
	}
	return out
}

// intercepts reports whether the webhook sees the creation of o.
func (h webhook) intercepts(o ClusterObject, crds map[string]*crdVersion, namespaces map[string]map[string]string) bool {
	group, version := o.Group(), o.APIVersion
	if i := strings.Index(version, "/"); i >= 0 {
		version = version[i+1:]
	}
	plural, scope := pluralOf[o.Kind], "Namespaced"
	if cv, ok := crds[o.APIVersion+" "+o.Kind]; ok {
		plural, scope = cv.plural, cv.scope
	} else if clusterScopedKind(o.Kind) {
		scope = "Cluster"
	}
	if plural == "" {
		plural = strings.ToLower(o.Kind) + "s"
	}
	matched := false
	for _, r := range listOf(h.body["rules"]) {
		if matchAny(r["operations"], "CREATE") && matchAny(r["apiGroups"], group) && matchAny(r["apiVersions"], version) &&
			matchAny(r["resources"], plural) && (r["scope"] == nil || r["scope"] == "*" || r["scope"] == scope) {
			matched = true
		}
	}
	if !matched {
		return false
	}
	if scope == "Namespaced" {
		labels, known := namespaces[o.Namespace]
		if !known {
			labels = map[string]string{"kubernetes.io/metadata.name": o.Namespace}
		}
		if sel, ok := h.body["namespaceSelector"].(map[string]any); ok && !selects(sel, labels) {
			return false
		}
	}
	if sel, ok := h.body["objectSelector"].(map[string]any); ok && !selects(sel, o.Labels()) {
		return false
	}
	return true
}

// matchAny reports whether a rule's list holds want or "*".
func matchAny(v any, want string) bool {
	list := Strings(v)
	return slices.Contains(list, "*") || slices.Contains(list, want)
}

// selects evaluates a label selector against labels.
func selects(sel map[string]any, labels map[string]string) bool {
	for k, v := range stringMap(sel["matchLabels"]) {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range listOf(sel["matchExpressions"]) {
		key, _ := e["key"].(string)
		op, _ := e["operator"].(string)
		values := Strings(e["values"])
		val, has := labels[key]
		switch op {
		case "In":
			if !has || !slices.Contains(values, val) {
				return false
			}
		case "NotIn":
			if has && slices.Contains(values, val) {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false // an operator Kubernetes does not know selects nothing
		}
	}
	return true
}
