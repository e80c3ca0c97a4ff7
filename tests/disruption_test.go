package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

func TestRunningSyncsAndTasksHoldTheirNodes(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		var jobs, tasks int
		for _, o := range p.ClusterObjects() {
			if !plan.RunsUserCode(o) {
				continue
			}
			assert.Equal(t, "true", plan.StringAt(o.Body, "metadata", "annotations", "karpenter.sh/do-not-disrupt"), "%s: %s", stack, o.From)
			if strings.Contains(o.From, "JOB_KUBE_") {
				jobs++
			} else {
				tasks++
			}
		}
		assert.Equal(t, 1, jobs, "%s: Airbyte's job pods are modelled", stack)
		assert.Equal(t, 1, tasks, "%s: Airflow's task pods are modelled", stack)
		// The hold is bounded: an expired or drifted node evicts anyway
		// after the pool's terminationGracePeriod.
		for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
			assert.Equal(t, "48h", plan.StringAt(np.Inputs, "spec", "template", "spec", "terminationGracePeriod"), np.Name)
		}
	}
}

func TestNodePoolsDisruptWithinTheirBudgetsAndProdPinsItsImage(t *testing.T) {
	p := stackPlan(t, "prod")
	budgets := map[string]any{}
	for _, np := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
		budgets[plan.StringAt(np.Inputs, "metadata", "name")] = plan.At(np.Inputs, "spec", "disruption", "budgets")
	}
	assert.Equal(t, []any{
		map[string]any{"nodes": "10%"},
		map[string]any{"nodes": "0", "schedule": "0 8 * * mon-fri", "duration": "10h", "reasons": []any{"Underutilized"}},
	}, budgets["on-demand"], "no consolidation in business hours")
	assert.Equal(t, []any{map[string]any{"nodes": "10%"}}, budgets["spot"], "Karpenter's own default, written out")
	nc := p.Find("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
	require.Len(t, nc, 1)
	assert.Regexp(t, `^al2023@v\d{8}$`, plan.StringAt(nc[0].Inputs["spec"].(map[string]any)["amiSelectorTerms"].([]any)[0].(map[string]any), "alias"), "prod pins its node image")

	opts := stackOptions(t, "dev")
	k := section(t, opts, "dataplatform:karpenter")
	pools := k["nodePools"].([]any)
	pools[0].(map[string]any)["budgets"] = []any{
		map[string]any{"nodes": "ten"},
		map[string]any{"nodes": "0", "schedule": "0 8 * * mon-fri"},
		map[string]any{"nodes": "1", "schedule": "every morning", "duration": "1 day", "reasons": []any{"Whenever"}},
	}
	pools[0].(map[string]any)["terminationGracePeriod"] = "two days"
	setSection(t, opts, "dataplatform:karpenter", k)
	_, err := plan.Run(opts)
	require.Error(t, err)
	for _, want := range []string{"budgets[0].nodes", "budgets[1]: schedule and duration go together", "budgets[2].schedule",
		"budgets[2].duration", "budgets[2].reasons[0]", "terminationGracePeriod"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestEveryLongRunningComponentHasABudgetMatchingItsReplicas(t *testing.T) {
	// One pod at a time, a single replica's too (dev runs one of each).
	for stack, want := range map[string]float64{"dev": 1, "prod": 1} {
		p := stackPlan(t, stack)
		for _, r := range p.Find("kubernetes:policy/v1:PodDisruptionBudget") {
			if r.Name == "airbyte-server" {
				assert.Equal(t, want, r.Inputs["spec"].(map[string]any)["maxUnavailable"], stack)
			}
		}
		assert.Equal(t, want, plan.At(values(t, p, "airflow"), "scheduler", "podDisruptionBudget", "config", "maxUnavailable"), stack)
	}
	// Negative controls: each failure the check exists for.
	got := strings.Join(violations(breakObjects(t, "prod", func(p *plan.Plan) {
		var kept []plan.Resource
		for _, r := range p.Resources {
			if r.Type != "kubernetes:policy/v1:PodDisruptionBudget" || r.Name != "airbyte-temporal" {
				kept = append(kept, r)
			}
		}
		p.Resources = kept
	}), plan.RuleDisruption), "\n")
	assert.Contains(t, got, "Deployment airbyte/airbyte-temporal")
	assert.Contains(t, got, "has no PodDisruptionBudget")

	got = strings.Join(violations(breakObjects(t, "prod", func(p *plan.Plan) {
		pdb := objectNamed(t, p, "airflow", "PodDisruptionBudget", "airflow-scheduler-pdb")
		pdb.Body["spec"].(map[string]any)["maxUnavailable"] = 0
	}), plan.RuleDisruption), "\n")
	assert.Contains(t, got, "has 2 replicas but its budget airflow-scheduler-pdb allows 0 evictions at once (want 1: with none, a drain")
	// A single replica's budget of none blocks every drain of its node
	// (the cluster test bed's roll found it on both stacks).
	got = strings.Join(violations(breakObjects(t, "dev", func(p *plan.Plan) {
		for i, r := range p.Resources {
			if r.Type == "kubernetes:policy/v1:PodDisruptionBudget" && r.Name == "airbyte-temporal" {
				p.Resources[i].Inputs["spec"].(map[string]any)["maxUnavailable"] = 0.0
			}
		}
	}), plan.RuleDisruption), "\n")
	assert.Contains(t, got, "Deployment airbyte/airbyte-temporal: has 1 replicas but its budget airbyte-temporal allows 0 evictions at once (want 1: with none, a drain of its node waits")

	got = strings.Join(violations(breakObjects(t, "prod", func(p *plan.Plan) {
		objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env").Body["data"].(map[string]any)["JOB_KUBE_ANNOTATIONS"] = ""
	}), plan.RuleDisruption), "\n")
	assert.Contains(t, got, "without karpenter.sh/do-not-disrupt")

	got = strings.Join(violations(breakObjects(t, "prod", func(p *plan.Plan) {
		objs := p.AllObjects()[release(t, p, "airbyte").URN]
		objs = append(objs, plan.Object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Name: "temporal-data", Namespace: "airbyte",
			Body: map[string]any{"spec": map[string]any{"accessModes": []any{"ReadWriteOnce"}}}})
		p.AllObjects()[release(t, p, "airbyte").URN] = objs
		spec := podSpec(t, p, "airbyte", "Deployment", "airbyte-temporal")
		spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "data", "persistentVolumeClaim": map[string]any{"claimName": "temporal-data"}})
		spec["nodeSelector"] = map[string]any{"dataplatform.io/capacity": "spot"}
		spec["tolerations"] = []any{map[string]any{"key": "dataplatform.io/spot", "operator": "Exists"}}
	}), plan.RuleDisruption), "\n")
	assert.Contains(t, got, "has a volume of its own but may run on NodePool spot")
}

func TestTasksOnSpotAreRetried(t *testing.T) {
	// Both stacks may put task pods on spot (prod's spot pool, dev's
	// spot-first pool): a reclaimed node must not fail the DAG run.
	for _, stack := range []string{"dev", "prod"} {
		cfg := release(t, stackPlan(t, stack), "airflow").Rendered["ConfigMap airflow/airflow-config"].(map[string]any)["data"].(map[string]any)["airflow.cfg"].(string)
		assert.Contains(t, cfg, "default_task_retries = 2", stack)
	}
	// Negative control: tasks on an on-demand pool keep Airflow's default.
	opts := stackOptions(t, "dev")
	k := section(t, opts, "dataplatform:karpenter")
	k["nodePools"].([]any)[0].(map[string]any)["capacityTypes"] = []any{"on-demand"}
	setSection(t, opts, "dataplatform:karpenter", k)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	assert.Nil(t, plan.At(values(t, p, "airflow"), "config", "core", "default_task_retries"))
}
