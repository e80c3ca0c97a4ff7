package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

// loginScript returns the script of an app's login job in p, and sets it
// to script when script is not "".
func loginScript(t *testing.T, p *plan.Plan, app, script string) string {
	t.Helper()
	c := at(findByName(t, p, "kubernetes:batch/v1:Job", app+"-logins").Inputs, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	cmd := c["command"].([]any)
	if script != "" {
		cmd[2] = script
	}
	return cmd[2].(string)
}

// The kubelet reduces "$$" to "$" in a container's command: the login
// job's DO block is quoted $handover$, which it leaves alone (found by the
// test bed, whose pod runtime expands commands as the kubelet does).
func TestNoContainerCommandHoldsWhatTheKubeletWouldExpand(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		script := loginScript(t, p, "airbyte", "")
		require.Contains(t, script, "DO $handover$")
		assert.NotContains(t, script, "$$")
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleExpansion), stack)
	}
	// Negative control: the block quoted $$, as it first was.
	vs := breakObjects(t, "dev", func(p *plan.Plan) {
		loginScript(t, p, "airbyte", strings.ReplaceAll(loginScript(t, p, "airbyte", ""), "$handover$", "$$"))
	})
	got := strings.Join(violations(vs, plan.RuleExpansion), "\n")
	assert.Contains(t, got, `container psql: command[2] holds "…`)
	assert.Contains(t, got, `which the kubelet reduces to "$"`)
}

// The login job runs as the RDS master user, which on RDS owns the
// postgres and template1 databases: REASSIGN OWNED would hand them to the
// app (found by the test bed on an RDS-shaped PostgreSQL).
func TestTheLoginJobHandsOverOnlyTheAppsOwnObjects(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		assert.NotContains(t, strings.ToUpper(loginScript(t, p, "airflow", "")), "REASSIGN OWNED", stack)
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleMasterSharedObjects), stack)
	}
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		loginScript(t, p, "airflow", loginScript(t, p, "airflow", "")+"\necho 'REASSIGN OWNED BY CURRENT_USER TO x' | psql\n")
	})
	assert.Contains(t, strings.Join(violations(vs, plan.RuleMasterSharedObjects), "\n"),
		"container psql connects as the RDS master user and runs REASSIGN OWNED, which also reassigns the databases the master user owns (on RDS: postgres and template1")
}

// Each app's login job makes every database the app uses (Airbyte's
// Temporal's too) and hands it to the app's owner role: none is ever open
// to another app's logins. Airbyte's owner keeps CREATEDB, without which
// Temporal's schema tool fails (found by the test bed).
func TestTheLoginJobMakesEveryDatabaseOfTheApp(t *testing.T) {
	p := stackPlan(t, "dev")
	env := func(app string) map[string]string {
		c := at(findByName(t, p, "kubernetes:batch/v1:Job", app+"-logins").Inputs, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
		out := map[string]string{}
		for _, e := range c["env"].([]any) {
			out[str(e.(map[string]any), "name")] = str(e.(map[string]any), "value")
		}
		return out
	}
	assert.Equal(t, "airbyte temporal temporal_visibility", env("airbyte")["DATABASES"])
	assert.Equal(t, "airflow", env("airflow")["DATABASES"])
	assert.Equal(t, "true", env("airbyte")["CREATEDB"])
	assert.Equal(t, "false", env("airflow")["CREATEDB"])
}
