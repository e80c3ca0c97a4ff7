package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/components/airflow"
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

// No container lists a variable twice: Temporal's host verification, which
// the chart hard-codes off for an external database, is set through the
// project's patch of the chart, once, in the ConfigMap the chart reads.
func TestNoContainerListsAVariableTwice(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleEnvUnique), stack)
		env := objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env").Body["data"].(map[string]any)
		assert.Equal(t, "false", env["POSTGRES_TLS_DISABLE_HOST_VERIFICATION"], stack)
		assert.Equal(t, "false", env["SQL_TLS_DISABLE_HOST_VERIFICATION"], stack)
	}
	temporal := func(p *plan.Plan) map[string]any {
		spec, _ := plan.PodSpec(objectNamed(t, p, "airbyte", "Deployment", "airbyte-temporal").Body, "Deployment")
		return spec["containers"].([]any)[0].(map[string]any)
	}
	// Negative control: the override given as a second entry, as it was.
	vs := breakObjects(t, "dev", func(p *plan.Plan) {
		c := temporal(p)
		c["env"] = append(c["env"].([]any), map[string]any{"name": "SQL_TLS_DISABLE_HOST_VERIFICATION", "value": "false"})
	})
	assert.Regexp(t, `container airbyte-temporal: env\[\d+\] and env\[\d+\] are both SQL_TLS_DISABLE_HOST_VERIFICATION: the later wins`, strings.Join(violations(vs, plan.RuleEnvUnique), "\n"))
	// And without the patch the chart's "true" stands: k8s/db-tls refuses it.
	vs = breakObjects(t, "dev", func(p *plan.Plan) {
		objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env").Body["data"].(map[string]any)["POSTGRES_TLS_DISABLE_HOST_VERIFICATION"] = "true"
	})
	assert.Contains(t, strings.Join(violations(vs, plan.RuleDatabaseTLS), "\n"), `Temporal's POSTGRES_TLS_DISABLE_HOST_VERIFICATION is "true", want "false"`)
}

// Task pods get none of the platform's secrets: the pod template is the
// chart's own with its standard environment (the metadata database's
// connection, the fernet key, the API secret key) replaced, while the
// components that need them keep them.
func TestTaskPodsGetNoPlatformSecrets(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleUserCodeSecrets), stack)
		tpl := objectNamed(t, p, "airflow", "ConfigMap", "airflow-config").Body["data"].(map[string]any)["pod_template_file.yaml"].(string)
		for _, n := range airflow.TaskEnvironmentWithheld {
			assert.NotContains(t, tpl, n, stack)
		}
		assert.Contains(t, tpl, "name: CONNECTION_CHECK_MAX_COUNT", stack)
		spec, _ := plan.PodSpec(objectNamed(t, p, "airflow", "Deployment", "airflow-scheduler").Body, "Deployment")
		var names []string
		for _, e := range spec["containers"].([]any)[0].(map[string]any)["env"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
		assert.Subset(t, names, []string{"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}, "the scheduler keeps them")
	}
	// Negative control: the chart's own template, as it was.
	archive, err := os.ReadFile("../charts/airflow-1.21.0.tgz")
	require.NoError(t, err)
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		data := objectNamed(t, p, "airflow", "ConfigMap", "airflow-config").Body["data"].(map[string]any)
		data["pod_template_file.yaml"] = strings.Replace(data["pod_template_file.yaml"].(string), "        - name: CONNECTION_CHECK_MAX_COUNT\n",
			"        - name: AIRFLOW__CORE__FERNET_KEY\n          valueFrom:\n            secretKeyRef:\n              name: airflow-platform\n              key: fernet-key\n"+
				"        - name: SOMETHING_ELSE\n          valueFrom:\n            secretKeyRef:\n              name: airflow-metadata\n              key: connection\n        - name: CONNECTION_CHECK_MAX_COUNT\n", 1)
	})
	got := strings.Join(violations(vs, plan.RuleUserCodeSecrets), "\n")
	assert.Contains(t, got, "container base runs user code and gets AIRFLOW__CORE__FERNET_KEY, a secret of the platform's own components")
	assert.Regexp(t, `container base runs user code and reads airflow-metadata/connection \(as SOMETHING_ELSE\), the key the platform's components read (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN|AIRFLOW_CONN_AIRFLOW_DB) from`, got)
	// A chart whose template no longer includes the standard environment
	// where chart 1.21.0 does is refused, for review.
	_, err = airflow.TaskPodTemplate(archive)
	require.NoError(t, err)
	_, err = airflow.TaskPodTemplate(rewriteFile(t, archive, "airflow/files/pod-template-file.kubernetes-helm-yaml", func(s string) string {
		return strings.ReplaceAll(s, `include "standard_airflow_environment"`, `include "renamed_environment"`)
	}))
	require.ErrorContains(t, err, "no longer includes standard_airflow_environment")
}

// rewriteFile returns the gzipped tar archive with file name rewritten.
func rewriteFile(t *testing.T, archive []byte, name string, rewrite func(string) string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if h.Name == name {
			data = []byte(rewrite(string(data)))
			h.Size = int64(len(data))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return out.Bytes()
}
