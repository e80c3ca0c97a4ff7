package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

// kubernetesRules check the objects the plan puts in the cluster: the
// program's and every object the Helm releases render, with the pods their
// workloads (and Airflow's pod template, and Airbyte's job settings) start.
var kubernetesRules = []Rule{
	{ID: "K8S-001", Severity: High, Control: "CIS EKS 4.2.1; Pod Security Standards (baseline): privileged containers",
		Description: "No container is privileged or adds capabilities beyond the baseline", check: eachPod(func(o plan.ClusterObject, spec map[string]any) string {
			for _, c := range containers(spec) {
				if boolean(c, "securityContext", "privileged") {
					return "container " + str(c, "name") + " is privileged"
				}
				for _, capability := range list(at(c, "securityContext", "capabilities", "add")) {
					if !baselineCapabilities[strings.TrimPrefix(strings.ToUpper(capability), "CAP_")] {
						return "container " + str(c, "name") + " adds capability " + capability
					}
				}
			}
			return ""
		})},
	{ID: "K8S-002", Severity: High, Control: "CIS EKS 4.2.2-4.2.4; Pod Security Standards (baseline): host namespaces",
		Description: "No pod shares the node's network, process or IPC namespace", check: eachPod(func(o plan.ClusterObject, spec map[string]any) string {
			for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
				if boolean(spec, k) {
					return k + " is true"
				}
			}
			return ""
		})},
	{ID: "K8S-003", Severity: High, Control: "Pod Security Standards (baseline): HostPath volumes",
		Description: "No pod mounts a directory of the node (hostPath)", check: eachPod(func(o plan.ClusterObject, spec map[string]any) string {
			for _, v := range objects(spec["volumes"]) {
				if v["hostPath"] != nil {
					return "volume " + str(v, "name") + " is a hostPath of " + str(v, "hostPath", "path")
				}
			}
			return ""
		})},
	{ID: "K8S-004", Severity: Medium, Control: "EKS best practices (reliability): set resource requests",
		Description: "Every container requests CPU and memory, so the scheduler and Karpenter size nodes for it", check: eachPod(func(o plan.ClusterObject, spec map[string]any) string {
			for _, c := range containers(spec) {
				for _, r := range []string{"cpu", "memory"} {
					if at(c, "resources", "requests", r) == nil {
						return "container " + str(c, "name") + " requests no " + r
					}
				}
			}
			return ""
		})},
	{ID: "K8S-005", Severity: High, Control: "EKS best practices (security): one service account and IAM role per workload",
		Description: "The service account user or connector code runs as serves no platform pod, and its IAM role trusts no other account", check: checkUserCodeAccounts},
	{ID: "K8S-006", Severity: High, Control: "CIS EKS 4.1.2, 4.1.4: minimize access to secrets and to create pods",
		Description: "No Role grants the accounts of user or connector code reading Secrets or starting pods (which can mount any Secret)", check: checkUserCodeRBAC},
	{ID: "K8S-007", Severity: High, Control: "External Secrets security best practices: namespaced stores; CIS EKS 4.1.2",
		Description: "No secret store is usable from every namespace: no ClusterSecretStore without namespace conditions, and the operator does not reconcile them", check: checkClusterStores},
	{ID: "K8S-008", Severity: Medium, Control: "CIS EKS 4.1.3: minimize wildcard use in Roles and ClusterRoles",
		Description: "Roles the program creates name their API groups, resources and verbs (no \"*\")", check: checkWildcardRoles},
}

// baselineCapabilities are the capabilities the Pod Security Standards'
// baseline profile allows a container to add.
var baselineCapabilities = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true, "KILL": true, "MKNOD": true,
	"NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true, "SETUID": true, "SYS_CHROOT": true,
}

// pods are the pods of the plan that run: Helm test hooks are never run by
// a Pulumi release.
func (g *graph) pods() []plan.ClusterObject {
	var out []plan.ClusterObject
	for _, o := range g.objects() {
		if o.Kind == "Pod" && !strings.Contains(o.Hook, "test") {
			out = append(out, o)
		}
	}
	return out
}

func (g *graph) objects() []plan.ClusterObject {
	if g.cluster == nil {
		g.cluster = g.p.ClusterObjects()
	}
	return g.cluster
}

func containers(spec map[string]any) []map[string]any {
	return append(objects(spec["initContainers"]), objects(spec["containers"])...)
}

// eachPod applies check to the spec of every pod and reports against the
// Pulumi resource that creates it.
func eachPod(check func(plan.ClusterObject, map[string]any) string) func(*graph) []Violation {
	return func(g *graph) []Violation {
		var out []Violation
		for _, o := range g.pods() {
			spec, _ := o.Body["spec"].(map[string]any)
			if msg := check(o, spec); msg != "" {
				out = append(out, g.objectViolation(o, msg))
			}
		}
		return out
	}
}

// objectViolation charges a problem with object o to the Pulumi resource
// that creates it.
func (g *graph) objectViolation(o plan.ClusterObject, msg string) Violation {
	r, _ := g.p.ByURN(o.Owner)
	what := o.Key()
	if o.Derived {
		what = "pods of " + o.From
	}
	return violation(r, "%s: %s", what, msg)
}

func serviceAccountOf(o plan.ClusterObject) string {
	sa := str(o.Body, "spec", "serviceAccountName")
	if sa == "" {
		sa = "default"
	}
	return o.Namespace + "/" + sa
}

// userCodeAccounts are the service accounts of pods that run user or
// connector code.
func (g *graph) userCodeAccounts() map[string]bool {
	out := map[string]bool{}
	for _, o := range g.pods() {
		if plan.RunsUserCode(o) {
			out[serviceAccountOf(o)] = true
		}
	}
	return out
}

func checkUserCodeAccounts(g *graph) []Violation {
	var out []Violation
	accounts := g.userCodeAccounts()
	for _, o := range g.pods() {
		if !plan.RunsUserCode(o) && accounts[serviceAccountOf(o)] {
			out = append(out, g.objectViolation(o, "a platform pod runs as "+serviceAccountOf(o)+", the account of user or connector code"))
		}
	}
	for _, role := range g.of(tRole) {
		subs := trustedSubjects(role)
		shared := false
		for _, s := range subs {
			if accounts[strings.Replace(strings.TrimPrefix(s, "system:serviceaccount:"), ":", "/", 1)] {
				shared = len(subs) > 1
			}
		}
		if shared {
			out = append(out, violation(role, "trusts %s: the account of user or connector code shares its role with others", strings.Join(subs, ", ")))
		}
	}
	return out
}

func trustedSubjects(role plan.Resource) []string {
	var out []string
	doc, _ := role.Inputs["assumeRolePolicy"].(map[string]any)
	for _, s := range objects(doc["Statement"]) {
		cond, _ := s["Condition"].(map[string]any)
		for _, op := range []string{"StringEquals", "StringLike"} {
			m, _ := cond[op].(map[string]any)
			for k, v := range m {
				if strings.HasSuffix(k, ":sub") {
					out = append(out, list(v)...)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// grants are the rules of every Role and ClusterRole, by "Kind namespace/name".
func (g *graph) roleRules() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, o := range g.objects() {
		if o.Kind == "Role" || o.Kind == "ClusterRole" {
			out[o.Kind+" "+o.Namespace+"/"+o.Name] = objects(o.Body["rules"])
		}
	}
	return out
}

// readsSecrets reports a rule that reads Secrets or starts pods.
func readsSecrets(rule map[string]any) string {
	groups, resources, verbs := list(rule["apiGroups"]), list(rule["resources"]), list(rule["verbs"])
	if !slices.Contains(groups, "") && !slices.Contains(groups, "*") {
		return ""
	}
	has := func(values []string, want ...string) bool {
		for _, w := range want {
			if slices.Contains(values, w) {
				return true
			}
		}
		return slices.Contains(values, "*")
	}
	switch {
	case has(resources, "secrets") && has(verbs, "get", "list", "watch"):
		return "reads Secrets"
	case has(resources, "pods") && has(verbs, "create"):
		return "creates pods"
	case has(resources, "pods/exec") && has(verbs, "create"):
		return "execs into pods"
	}
	return ""
}

func checkUserCodeRBAC(g *graph) []Violation {
	var out []Violation
	accounts := g.userCodeAccounts()
	rules := g.roleRules()
	for _, b := range g.objects() {
		if b.Kind != "RoleBinding" && b.Kind != "ClusterRoleBinding" {
			continue
		}
		ref := str(b.Body, "roleRef", "kind") + " "
		if str(b.Body, "roleRef", "kind") == "Role" {
			ref += b.Namespace
		}
		ref += "/" + str(b.Body, "roleRef", "name")
		for _, s := range objects(b.Body["subjects"]) {
			ns := str(s, "namespace")
			if ns == "" {
				ns = b.Namespace
			}
			account := ns + "/" + str(s, "name")
			if str(s, "kind") != "ServiceAccount" || !accounts[account] {
				continue
			}
			for _, r := range rules[ref] {
				if what := readsSecrets(r); what != "" {
					out = append(out, g.objectViolation(b, fmt.Sprintf("binds %s, the account of user or connector code, to %s, which %s", account, ref, what)))
				}
			}
		}
	}
	return out
}

func checkClusterStores(g *graph) []Violation {
	var out []Violation
	for _, o := range g.objects() {
		switch {
		case o.Kind == "ClusterSecretStore" && at(o.Body, "spec", "conditions") == nil:
			out = append(out, g.objectViolation(o, "a ClusterSecretStore without conditions serves every namespace"))
		case o.Kind == "Deployment" && strings.Contains(o.Name, "external-secrets") && !strings.Contains(o.Name, "webhook") && !strings.Contains(o.Name, "cert-controller"):
			for _, c := range objects(at(o.Body, "spec", "template", "spec", "containers")) {
				if !slices.Contains(list(c["args"]), "--enable-cluster-store-reconciler=false") {
					out = append(out, g.objectViolation(o, "the operator reconciles ClusterSecretStores (no --enable-cluster-store-reconciler=false): anyone who may create one reads every namespace's secrets"))
				}
			}
		}
	}
	return out
}

func checkWildcardRoles(g *graph) []Violation {
	var out []Violation
	for _, o := range g.objects() {
		if (o.Kind != "Role" && o.Kind != "ClusterRole") || isRelease(g, o.Owner) {
			continue
		}
		for _, r := range objects(o.Body["rules"]) {
			for _, k := range []string{"apiGroups", "resources", "verbs"} {
				if slices.Contains(list(r[k]), "*") {
					out = append(out, g.objectViolation(o, k+" holds \"*\""))
				}
			}
		}
	}
	return out
}

func isRelease(g *graph, urn string) bool {
	r, ok := g.p.ByURN(urn)
	return ok && r.Type == plan.ReleaseType
}
