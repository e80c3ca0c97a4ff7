package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

// The cluster test bed found it: pulumi-kubernetes installs a release as
// Helm's --wait does, waiting for its pods before any post-install hook;
// Airflow's pods wait (init container wait-for-airflow-migrations) for the
// migration Job, which was such a hook, so the first `pulumi up` timed out.
func TestAirflowsJobsArePartOfTheReleaseAndGoWhenDone(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleHooks), stack)
		job := objectNamed(t, p, "airflow", "Job", "airflow-run-airflow-migrations")
		assert.Empty(t, job.Hook, "%s: the migration Job is created with the release, not after its wait", stack)
		assert.EqualValues(t, 0, plan.At(job.Body, "spec", "ttlSecondsAfterFinished"), stack)
	}
	// Negative controls: the migration Job as the chart makes it by
	// default (a post-install hook), and kept once done.
	got := strings.Join(violations(breakObjects(t, "prod", func(p *plan.Plan) {
		objectNamed(t, p, "airflow", "Job", "airflow-run-airflow-migrations").Hook = "post-install,post-upgrade"
	}), plan.RuleHooks), "\n")
	require.Contains(t, got, "pods of Deployment airflow/airflow-scheduler")
	assert.Contains(t, got, "wait (init container wait-for-airflow-migrations) for Job airflow/airflow-run-airflow-migrations, a post-install,post-upgrade hook, but Helm runs that hook only once the release's pods are ready")

	got = strings.Join(violations(breakObjects(t, "dev", func(p *plan.Plan) {
		spec := objectNamed(t, p, "airflow", "Job", "airflow-run-airflow-migrations").Body["spec"].(map[string]any)
		spec["ttlSecondsAfterFinished"] = 300.0
	}), plan.RuleHooks), "\n")
	assert.Contains(t, got, "Job airflow/airflow-run-airflow-migrations")
	assert.Contains(t, got, "stays for 300 s once finished (ttlSecondsAfterFinished): an upgrade that changes its pod template while it exists fails")
}
