//go:build testbed

// Package cluster_test is the cluster test bed's tests: a real control
// plane of the cluster's Kubernetes version with KWOK's simulated nodes,
// given what `pulumi up` gives the cluster (from a stack's plan), then
// rolled node by node, asked what each service account may do, and
// destroyed. testbed/run runs them on each stack:
//
//	TESTBED_PLAN=plan.json TESTBED_NODES=nodes.json TESTBED_DEMAND=demand.json \
//	TESTBED_CLUSTER_DIR=/var/tmp/... ./cluster.test -test.v
//
// The stand-ins (each for something that needs AWS) are listed in package
// cluster's documentation and in testbed/README.md.
package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
	"github.com/dataplatform/dataplatform/testbed/internal/cluster"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Demand is a long-running workload as `cmd/plan -demand` prints it.
type Demand struct {
	Workload  string `json:"workload"`
	Replicas  int    `json:"replicas"`
	Pool      string `json:"pool"`
	NodeGroup string `json:"nodeGroup"`
}

type life struct {
	c      *cluster.Cluster
	plan   *planjson.Plan
	nodes  []cluster.Node
	demand []Demand
	names  []string // the first nodes
	kube   *cluster.Kubelet
}

func env(t *testing.T, k string) string {
	v := os.Getenv(k)
	if v == "" {
		t.Skipf("%s is not set: testbed/run sets it", k)
	}
	return v
}

func readJSON(t *testing.T, path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestCluster runs the stack's cluster life in order: up, placement,
// service accounts, a roll of every node, a task pod from the apps bed's
// scheduler, destroy. Each step is a subtest;
// a failed install skips the rest.
func TestCluster(t *testing.T) {
	b := &life{}
	var err error
	if b.plan, err = planjson.Read(env(t, "TESTBED_PLAN")); err != nil {
		t.Fatal(err)
	}
	if b.nodes, err = cluster.ReadNodes(env(t, "TESTBED_NODES")); err != nil {
		t.Fatal(err)
	}
	readJSON(t, env(t, "TESTBED_DEMAND"), &b.demand)
	var tools cluster.Tools
	readJSON(t, filepath.Join(env(t, "TESTBED_CACHE"), "tools.json"), &tools)
	dir := env(t, "TESTBED_CLUSTER_DIR")
	_ = os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	issuer := "https://oidc.eks.us-east-1.amazonaws.com/id/TESTBED"
	addr := "127.0.0.1"
	if os.Getenv("TESTBED_DIR") != "" {
		addr = bed.BridgeIP // the apps bed's pods reach the API server here
	}
	if b.c, err = cluster.Start(ctx, dir, tools, issuer, addr); err != nil {
		t.Fatal(err)
	}
	defer b.c.Stop()
	zones := zonesOf(b.plan)
	if b.names, err = b.c.AddNodes(ctx, b.nodes, zones); err != nil {
		t.Fatal(err)
	}
	b.kube = b.c.StartKubelet(ctx, func(f string, a ...any) {
		if ctx.Err() == nil {
			t.Logf(f, a...)
		}
	})
	t.Logf("control plane v1.35.4 up; %d nodes in %v: %s", len(b.names), zones, strings.Join(b.names, ", "))
	if !t.Run("UpConvergesInOnePass", b.up) {
		return
	}
	t.Run("EveryPodRunsWhereThePlanMeantIt", b.placement)
	t.Run("ServiceAccountsMayDoWhatTheyMustAndNoMore", b.access)
	t.Run("EveryNodeRollsWithinTheBudgets", b.roll)
	t.Run("TheSchedulerLaunchesATaskPodAsThePlanSays", b.executor)
	t.Run("DestroyFinishes", b.destroy)
}

// zonesOf is the zones of the plan's private subnets (where the nodes run).
func zonesOf(p *planjson.Plan) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Find("aws:ec2/subnet:Subnet") {
		z, _ := r.Inputs["availabilityZone"].(string)
		if z != "" && !seen[z] {
			seen[z] = true
			out = append(out, z)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"us-east-1a"}
	}
	return out
}

func (b *life) up(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	steps, err := b.c.Up(ctx, b.plan, repoDir(), t.Logf)
	if err != nil {
		if w := b.kube.Waiting(); len(w) > 0 {
			t.Logf("pods whose containers cannot start (kubelet stand-in):\n  %s", strings.Join(w, "\n  "))
		}
		t.Fatalf("pulumi up stops at: %v", err)
	}
	t.Logf("up: %d resources in %s; releases: %s", len(steps), time.Since(start).Round(time.Second), releaseTimes(steps))
	// Everything settles within a minute: Deployments Available,
	// StatefulSets ready, Jobs complete, no pod pending or unable to start.
	var problems []string
	var counts string
	deadline := time.Now().Add(time.Minute)
	for {
		problems, counts = b.unsettled(ctx)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if len(problems) > 0 {
		t.Fatalf("a minute after up, %d things have not settled:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	t.Logf("settled: %s", counts)
}

// unsettled lists what is not done yet, and counts what there is.
func (b *life) unsettled(ctx context.Context) ([]string, string) {
	var problems []string
	deps, _ := b.c.Client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	for _, d := range deps.Items {
		if !deploymentAvailable(d) {
			problems = append(problems, fmt.Sprintf("Deployment %s/%s: %d of %d ready, conditions %v", d.Namespace, d.Name, d.Status.ReadyReplicas, replicas(d.Spec.Replicas), d.Status.Conditions))
		}
	}
	sts, _ := b.c.Client.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	for _, s := range sts.Items {
		if s.Status.ReadyReplicas < replicas(s.Spec.Replicas) {
			problems = append(problems, fmt.Sprintf("StatefulSet %s/%s: %d of %d ready", s.Namespace, s.Name, s.Status.ReadyReplicas, replicas(s.Spec.Replicas)))
		}
	}
	jobs, _ := b.c.Client.BatchV1().Jobs("").List(ctx, metav1.ListOptions{})
	for _, j := range jobs.Items {
		if !jobDone(j) {
			problems = append(problems, fmt.Sprintf("Job %s/%s: not complete", j.Namespace, j.Name))
		}
	}
	pods, _ := b.c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodPending {
			problems = append(problems, fmt.Sprintf("Pod %s/%s: pending (%s)", p.Namespace, p.Name, scheduling(p)))
		}
	}
	problems = append(problems, b.kube.Waiting()...)
	return problems, fmt.Sprintf("%d Deployments, %d StatefulSets, %d Jobs, %d pods", len(deps.Items), len(sts.Items), len(jobs.Items), len(pods.Items))
}

// releaseTimes is each release's step and its time, for a log line.
func releaseTimes(steps []cluster.Step) string {
	var out []string
	for _, s := range steps {
		if s.Type == cluster.ReleaseType {
			out = append(out, fmt.Sprintf("%s %s", s.Name, s.Took.Round(100*time.Millisecond)))
		}
	}
	return strings.Join(out, ", ")
}

func repoDir() string {
	d, _ := filepath.Abs("../../..")
	return d
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func deploymentAvailable(d appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.ReadyReplicas >= replicas(d.Spec.Replicas)
		}
	}
	return false
}

func jobDone(j batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func scheduling(p corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return c.Message
		}
	}
	return "scheduled, not started"
}
