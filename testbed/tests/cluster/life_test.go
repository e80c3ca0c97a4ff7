//go:build testbed

package cluster_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/dataplatform/dataplatform/testbed/internal/cluster"
)

// nodeSource is the plan's name of where a node comes from: "NodePool
// <name>" or "node group <name>".
func nodeSource(n *corev1.Node) string {
	if p := n.Labels["karpenter.sh/nodepool"]; p != "" {
		return "NodePool " + p
	}
	return "node group " + n.Labels["eks.amazonaws.com/nodegroup"]
}

// workloadOf is "Kind namespace/name" of the Deployment, StatefulSet or
// DaemonSet that runs a pod ("" for another pod: a Job's, a hook's).
func (b *life) workloadOf(ctx context.Context, p corev1.Pod) string {
	ref := metav1.GetControllerOf(&p)
	if ref == nil {
		return ""
	}
	switch ref.Kind {
	case "StatefulSet", "DaemonSet":
		return ref.Kind + " " + p.Namespace + "/" + ref.Name
	case "ReplicaSet":
		rs, err := b.c.Client.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if d := metav1.GetControllerOf(rs); d != nil {
				return "Deployment " + p.Namespace + "/" + d.Name
			}
		}
	}
	return ""
}

// placement: the real scheduler, given the plan's nodes, puts each
// long-running workload's pods on the NodePool or node group the plan's
// capacity model (cmd/plan -demand, which the cost estimate and the node
// sizes rest on) expects; every other pod is placed, and none pending.
func (b *life) placement(t *testing.T) {
	ctx := context.Background()
	nodes, err := b.c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	source := map[string]string{}
	for i := range nodes.Items {
		source[nodes.Items[i].Name] = nodeSource(&nodes.Items[i])
	}
	want := map[string]string{}
	for _, d := range b.demand {
		if d.Pool != "" {
			want[d.Workload] = "NodePool " + d.Pool
		} else if d.NodeGroup != "" {
			want[d.Workload] = "node group " + d.NodeGroup
		}
	}
	pods, err := b.c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	seen := map[string]bool{}
	where := map[string]int{}
	for _, p := range pods.Items {
		got := source[p.Spec.NodeName]
		where[got]++
		w := b.workloadOf(ctx, p)
		seen[w] = true
		if exp, ok := want[w]; ok && got != exp {
			problems = append(problems, fmt.Sprintf("%s: pod %s runs on %s (node %s), the plan expects %s", w, p.Name, got, p.Spec.NodeName, exp))
		}
		if p.Spec.NodeName == "" {
			problems = append(problems, fmt.Sprintf("pod %s/%s has no node", p.Namespace, p.Name))
		}
	}
	for w := range want {
		if !seen[w] && !strings.HasPrefix(w, "DaemonSet ") {
			problems = append(problems, fmt.Sprintf("%s: the plan expects its pods, the cluster has none", w))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("%d pods are not where the plan means them:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	t.Logf("pods per node source: %v", where)
}

// accounts finds, in the cluster, the service accounts that run user or
// connector code (Airflow's task pods: its pod template's account;
// Airbyte's job pods: the launcher's JOB_KUBE_SERVICEACCOUNT) and those
// that launch pods (the Airflow scheduler's, the Airbyte workload
// launcher's), as "namespace/name".
func (b *life) accounts(ctx context.Context, t *testing.T) (userCode, launchers []string) {
	cms, err := b.c.Client.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		if tpl, ok := cm.Data["pod_template_file.yaml"]; ok {
			var pod corev1.Pod
			if err := yaml.Unmarshal([]byte(tpl), &pod); err != nil {
				t.Fatalf("%s/%s pod_template_file.yaml: %v", cm.Namespace, cm.Name, err)
			}
			userCode = append(userCode, cm.Namespace+"/"+orDefault(pod.Spec.ServiceAccountName))
		}
		if sa, ok := cm.Data["JOB_KUBE_SERVICEACCOUNT"]; ok {
			userCode = append(userCode, cm.Namespace+"/"+sa)
		}
	}
	pods, _ := b.c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	for _, p := range pods.Items {
		c := p.Labels["component"] + p.Labels["app.kubernetes.io/name"]
		if strings.Contains(c, "scheduler") && p.Namespace != "kube-system" || strings.Contains(c, "workload-launcher") {
			launchers = append(launchers, p.Namespace+"/"+orDefault(p.Spec.ServiceAccountName))
		}
		for _, ct := range p.Spec.Containers {
			for _, e := range ct.Env {
				if e.Name == "JOB_KUBE_SERVICEACCOUNT" && e.Value != "" {
					userCode = append(userCode, p.Namespace+"/"+e.Value)
				}
			}
		}
	}
	return uniq(userCode), uniq(launchers)
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func uniq(l []string) []string {
	sort.Strings(l)
	var out []string
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// denied is what an account that runs user or connector code must not do
// in its namespace: read Secrets (every app's credentials are there),
// start pods (with any account of the namespace), exec or attach into
// running ones, or mint tokens of other accounts.
var denied = []cluster.Access{
	{Verb: "get", Resource: "secrets"}, {Verb: "list", Resource: "secrets"}, {Verb: "watch", Resource: "secrets"},
	{Verb: "create", Resource: "pods"}, {Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "create", Resource: "pods", Subresource: "attach"}, {Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
	{Verb: "create", Resource: "rolebindings", Group: "rbac.authorization.k8s.io"},
}

// needed is what a launcher must do in its namespace to run task or job
// pods and follow them.
var needed = []cluster.Access{
	{Verb: "create", Resource: "pods"}, {Verb: "get", Resource: "pods"}, {Verb: "list", Resource: "pods"},
	{Verb: "watch", Resource: "pods"}, {Verb: "delete", Resource: "pods"}, {Verb: "get", Resource: "pods", Subresource: "log"},
}

// access asks the API server, with each account's own token, what it may
// do.
func (b *life) access(t *testing.T) {
	ctx := context.Background()
	userCode, launchers := b.accounts(ctx, t)
	if len(userCode) == 0 || len(launchers) == 0 {
		t.Fatalf("found user-code accounts %v and launchers %v: the test expects both apps' (Airflow's pod template, Airbyte's JOB_KUBE_SERVICEACCOUNT)", userCode, launchers)
	}
	t.Logf("accounts that run user code: %v; that launch pods: %v", userCode, launchers)
	check := func(account string, list []cluster.Access, allowed bool) {
		ns, name, _ := strings.Cut(account, "/")
		token, err := b.c.Token(ctx, ns, name)
		if err != nil {
			t.Error(err)
			return
		}
		as, err := b.c.As(token)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			a.Namespace = ns
			ok, err := cluster.Can(ctx, as, a)
			if err != nil {
				t.Errorf("%s: asking %s: %v", account, a, err)
				continue
			}
			if ok != allowed {
				t.Errorf("service account %s may %s: %v, want %v", account, a, ok, allowed)
			}
		}
	}
	for _, a := range userCode {
		check(a, denied, false)
	}
	for _, a := range launchers {
		check(a, needed, true)
	}
}

// RollLimit is the longest one node's replacement may take: a node-image
// rollout of tens of nodes is expected in hours, not in the 48 hours the
// NodePools' terminationGracePeriod would force (TESTBED_ROLL_LIMIT, a Go
// duration, changes it for a demonstration).
var RollLimit = 5 * time.Minute

func init() {
	if d, err := time.ParseDuration(os.Getenv("TESTBED_ROLL_LIMIT")); err == nil {
		RollLimit = d
	}
}

// roll replaces every node the platform started on, one after another.
func (b *life) roll(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	// Every node the cluster has now: the plan's, and any Karpenter's
	// stand-in launched for a pending pod.
	kinds := map[string]cluster.Node{}
	bySource := map[string]cluster.Node{}
	for _, n := range b.nodes {
		bySource[n.Source] = n
	}
	nodes, err := b.c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range nodes.Items {
		n := &nodes.Items[i]
		kinds[n.Name] = bySource[nodeSource(n)]
		names = append(names, n.Name)
	}
	var lines []string
	for _, name := range names {
		r, err := b.c.RollNode(ctx, name, kinds[name], RollLimit)
		if err != nil {
			t.Fatalf("rolling %s (%s): %v", name, kinds[name].Source, err)
		}
		lines = append(lines, fmt.Sprintf("%s → %s: %s (replacement ready in %s, drained in %s), %d evicted, %d refused by a budget",
			r.Node, r.Replacement, r.Took.Round(100*time.Millisecond), r.Launch.Round(100*time.Millisecond), r.Drain.Round(100*time.Millisecond), r.Evictions, r.Refused))
	}
	t.Logf("rolled %d nodes in %s:\n  %s", len(names), time.Since(start).Round(time.Second), strings.Join(lines, "\n  "))
	// What was evicted came back.
	b.whole(t)
}

// whole checks that every workload is whole again after the roll.
func (b *life) whole(t *testing.T) {
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var problems []string
		deps, _ := b.c.Client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
		for _, d := range deps.Items {
			if !deploymentAvailable(d) {
				problems = append(problems, "Deployment "+d.Namespace+"/"+d.Name)
			}
		}
		sts, _ := b.c.Client.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
		for _, s := range sts.Items {
			if s.Status.ReadyReplicas < replicas(s.Spec.Replicas) {
				problems = append(problems, "StatefulSet "+s.Namespace+"/"+s.Name)
			}
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the roll, not whole again: %v", problems)
		}
		time.Sleep(time.Second)
	}
}

// destroy: `pulumi destroy` finishes, and leaves no namespace of ours, no
// release, and no node-independent object held by a finalizer.
func (b *life) destroy(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	steps, err := b.c.Down(ctx, b.plan, t.Logf)
	if err != nil {
		t.Fatalf("pulumi destroy stops at: %v", err)
	}
	t.Logf("destroy: %d resources in %s; releases: %s", len(steps), time.Since(start).Round(time.Second), releaseTimes(steps))
	nss, _ := b.c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	var left []string
	for _, ns := range nss.Items {
		switch ns.Name {
		case "default", "kube-system", "kube-public", "kube-node-lease":
		default:
			left = append(left, ns.Name+" ("+string(ns.Status.Phase)+")")
		}
	}
	if len(left) > 0 {
		t.Errorf("namespaces left after destroy: %v", left)
	}
}
