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
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/yaml"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
	"github.com/dataplatform/dataplatform/testbed/internal/cluster"
)

// appsBed opens the stack's running apps bed (TESTBED_DIR), or returns nil
// when none runs.
func appsBed(t *testing.T) *bed.Bed {
	dir := os.Getenv("TESTBED_DIR")
	if dir == "" {
		return nil
	}
	tools, err := bed.ReadTools(os.Getenv("TESTBED_CACHE"))
	if err != nil {
		t.Fatal(err)
	}
	ab, err := bed.Open(dir, tools)
	if err != nil {
		t.Fatal(err)
	}
	return ab
}

// renderedPodTemplate is the pod template the plan renders for Airflow's
// task pods (the chart's pod_template_file.yaml).
func (b *life) renderedPodTemplate(t *testing.T) corev1.Pod {
	for _, o := range b.plan.Objects() {
		if o.Kind() != "ConfigMap" {
			continue
		}
		data, _ := o.Map["data"].(map[string]any)
		if tpl, ok := data["pod_template_file.yaml"].(string); ok {
			var pod corev1.Pod
			if err := yaml.Unmarshal([]byte(tpl), &pod); err != nil {
				t.Fatal(err)
			}
			return pod
		}
	}
	t.Fatal("the plan renders no pod_template_file.yaml")
	return corev1.Pod{}
}

// executor: the real Airflow scheduler of the apps bed, with the executor
// the plan renders (KubernetesExecutor) and its service account's token,
// launches a DAG's task as a pod in this cluster, and the pod has what the
// plan's pod template says: the account, the annotations, the placement
// (node selector, affinity, tolerations; and the real scheduler finds it a
// node) and the environment. Airflow's own code (the cncf.kubernetes
// provider's PodGenerator) builds the pod from the rendered template.
func (b *life) executor(t *testing.T) {
	if os.Getenv("TESTBED_DIR") == "" {
		t.Skip("no apps bed runs (TESTBED_DIR): testbed/run runs this test with the stack's apps bed up")
	}
	// testbed/run runs this bed beside the apps tests: the scheduler is
	// theirs until they are done.
	if done := os.Getenv("TESTBED_APPS_DONE"); done != "" {
		for deadline := time.Now().Add(40 * time.Minute); ; time.Sleep(2 * time.Second) {
			if _, err := os.Stat(done); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the apps tests did not finish (%s)", done)
			}
		}
	}
	ab := appsBed(t) // once they are done: it reads the plan they last applied (a rotation's)
	ctx := context.Background()
	pods, err := b.c.Client.CoreV1().Pods("airflow").List(ctx, metav1.ListOptions{LabelSelector: "component=scheduler"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("no scheduler pod in the cluster (%v)", err)
	}
	sa := pods.Items[0].Spec.ServiceAccountName
	token, err := b.c.Token(ctx, "airflow", sa)
	if err != nil {
		t.Fatal(err)
	}
	if err := ab.SchedulerInCluster(b.c.Addr, cluster.APIServerPort, token, b.c.CA); err != nil {
		t.Fatal(err)
	}
	// Watch before the trigger: the pod is gone a second after it
	// finishes (the executor deletes its pods), so a poll can miss it.
	// A retry watcher resumes from the last version it saw when the
	// API server ends a watch, so no event is lost.
	sel := metav1.ListOptions{LabelSelector: "dag_id=" + bed.DagID}
	list, err := b.c.Client.CoreV1().Pods("").List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel.LabelSelector
			return b.c.Client.CoreV1().Pods("").Watch(ctx, o)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, argv := range [][]string{{"airflow", "dags", "unpause", bed.DagID}, {"airflow", "dags", "trigger", bed.DagID}} {
		if out, err := ab.RunIn("Deployment", "airflow", "airflow-scheduler", "scheduler", "airflow-cli", argv); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	// The pod as the scheduler created it, and the node the cluster's
	// scheduler bound it to.
	var task corev1.Pod
	nodeName := ""
	timeout := time.After(3 * time.Minute)
	for nodeName == "" {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the watch of task pods ended")
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod {
				continue
			}
			if task.Name == "" {
				task = *p
			}
			nodeName = p.Spec.NodeName
		case <-timeout:
			t.Fatalf("the scheduler launched no task pod that found a node in 3 minutes; its log:\n%s", ab.Log("airflow-scheduler-scheduler", 30))
		}
	}
	tpl := b.renderedPodTemplate(t)
	var problems []string
	if task.Spec.ServiceAccountName != tpl.Spec.ServiceAccountName {
		problems = append(problems, fmt.Sprintf("service account %q, the template's is %q", task.Spec.ServiceAccountName, tpl.Spec.ServiceAccountName))
	}
	for k, v := range tpl.Annotations {
		if task.Annotations[k] != v {
			problems = append(problems, fmt.Sprintf("annotation %s=%q, the template has %q", k, task.Annotations[k], v))
		}
	}
	if fmt.Sprint(task.Spec.NodeSelector) != fmt.Sprint(tpl.Spec.NodeSelector) {
		problems = append(problems, fmt.Sprintf("node selector %v, the template's %v", task.Spec.NodeSelector, tpl.Spec.NodeSelector))
	}
	if fmt.Sprint(task.Spec.Affinity) != fmt.Sprint(tpl.Spec.Affinity) {
		problems = append(problems, "affinity differs from the template's")
	}
	for _, want := range tpl.Spec.Tolerations {
		if !hasToleration(task.Spec.Tolerations, want) {
			problems = append(problems, fmt.Sprintf("lacks the template's toleration %v", want))
		}
	}
	got, want := envNames(task), envNames(tpl)
	for n := range want {
		if !got[n] {
			problems = append(problems, "lacks the template's variable "+n)
		}
	}
	// The platform's secrets stay out of what the real executor launches
	// (the plan's check k8s/user-code-secrets reads the template).
	for _, n := range platformSecretEnv {
		if got[n] {
			problems = append(problems, "has "+n+", a secret of the platform's own components")
		}
	}
	for _, c := range append(task.Spec.InitContainers, task.Spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && platformSecrets[e.ValueFrom.SecretKeyRef.Name] {
				problems = append(problems, fmt.Sprintf("container %s reads Secret %s (%s)", c.Name, e.ValueFrom.SecretKeyRef.Name, e.Name))
			}
		}
	}
	if len(problems) > 0 {
		t.Errorf("task pod %s differs from the plan's pod template:\n  %s", task.Name, strings.Join(problems, "\n  "))
	}
	node, err := b.c.Client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	// Not the arguments: they carry the task's Execution API token.
	argv := append(append([]string{}, task.Spec.Containers[0].Command...), task.Spec.Containers[0].Args...)
	if len(argv) > 3 {
		argv = append(argv[:3], "...")
	}
	t.Logf("task pod %s: account %s, on %s (%s), command %v, environment %v", task.Name, task.Spec.ServiceAccountName, node.Name, nodeSource(node),
		argv, names)
}

// platformSecretEnv and platformSecrets are the variables and the Secrets
// through which Airflow's own components get the metadata database's
// login, the fernet key, the API secret key and the JWT secret.
var (
	platformSecretEnv = []string{"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_CONN_AIRFLOW_DB", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}
	platformSecrets   = map[string]bool{"airflow-metadata": true, "airflow-platform": true}
)

func hasToleration(list []corev1.Toleration, want corev1.Toleration) bool {
	for _, t := range list {
		if t.Key == want.Key && t.Operator == want.Operator && t.Value == want.Value && t.Effect == want.Effect {
			return true
		}
	}
	return false
}

func envNames(p corev1.Pod) map[string]bool {
	out := map[string]bool{}
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			out[e.Name] = true
		}
	}
	return out
}
