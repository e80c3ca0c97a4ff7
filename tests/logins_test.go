package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/plan"
)

// remoteKeys returns the Secrets Manager secrets (by ARN) an
// ExternalSecret reads, each once.
func remoteKeys(es plan.Resource) []string {
	var out []string
	data, _ := at(es.Inputs, "spec", "data").([]any)
	for _, d := range data {
		if key := str(d.(map[string]any), "remoteRef", "key"); !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}

func TestAppsLogInAsTheirOwnLoginsAndNeverAsTheMasterUser(t *testing.T) {
	p := stackPlan(t, "prod")
	master := map[string]bool{}
	for _, app := range []string{"airbyte", "airflow"} {
		master[p.Outputs[app+"DatabaseSecretArn"].(string)] = true
	}
	blue := map[string]string{
		"airbyte": findRecordOutput(t, p, "aws:secretsmanager/secret:Secret", "airbyte-logins-blue", "arn"),
		"airflow": findRecordOutput(t, p, "aws:secretsmanager/secret:Secret", "airflow-logins-blue", "arn"),
	}
	readers := 0
	for _, es := range p.Find("kubernetes:external-secrets.io/v1:ExternalSecret") {
		ns := str(es.Inputs, "metadata", "namespace")
		for _, key := range remoteKeys(es) {
			if master[key] {
				assert.Equal(t, "db-admin", ns, "only the login jobs' namespace receives the RDS master password, not %s", es.Name)
			}
			if ns == "airbyte" || ns == "airflow" {
				if strings.Contains(key, "/db-login-") {
					readers++
					assert.Equal(t, blue[ns], key, "%s reads the active login (generation 1: blue)", es.Name)
					assert.Equal(t, ns+"_blue", str(es.Inputs, "metadata", "annotations", plan.CredentialsAnnotation))
				}
			}
		}
	}
	assert.Equal(t, 4, readers, "Airbyte's database Secret and Airflow's metadata, PgBouncer config and stats Secrets")
	// Each app's release waits for the job that makes its logins.
	for _, app := range []string{"airbyte", "airflow"} {
		job := findByName(t, p, "kubernetes:batch/v1:Job", app+"-logins")
		assert.Contains(t, release(t, p, app).Dependencies, job.URN, "%s starts after its logins exist", app)
		assert.Equal(t, "db-admin", str(job.Inputs, "metadata", "namespace"))
	}
}

func TestRaisingTheLoginGenerationRotatesOneLoginAndRollsThePods(t *testing.T) {
	before := stackPlan(t, "prod")
	opts := stackOptions(t, "prod")
	db := section(t, opts, "dataplatform:database")
	db["loginGeneration"] = 2
	setSection(t, opts, "dataplatform:database", db)
	after, err := plan.Run(opts)
	require.NoError(t, err)

	keeper := func(p *plan.Plan, name string) string {
		return str(findByName(t, p, "random:index/randomPassword:RandomPassword", name).Inputs, "keepers", "generation")
	}
	assert.Equal(t, keeper(before, "airbyte-logins-blue"), keeper(after, "airbyte-logins-blue"), "the login in use until now keeps its password")
	assert.NotEqual(t, keeper(before, "airbyte-logins-green"), keeper(after, "airbyte-logins-green"), "the standby login gets a new password")
	green := findRecordOutput(t, after, "aws:secretsmanager/secret:Secret", "airbyte-logins-green", "arn")
	es := findByName(t, after, "kubernetes:external-secrets.io/v1:ExternalSecret", "airbyte-db")
	assert.Equal(t, []string{green}, remoteKeys(es), "Airbyte moves to the green login")
	server := objectNamed(t, after, "airbyte", "Deployment", "airbyte-server")
	assert.Equal(t, "airbyte_green", str(server.Body, "spec", "template", "metadata", "annotations", plan.CredentialsAnnotation), "its pods roll onto it")
	job := func(p *plan.Plan) string {
		return str(findByName(t, p, "kubernetes:batch/v1:Job", "airbyte-logins").Inputs, "spec", "template", "metadata", "annotations", "dataplatform.io/login-generation")
	}
	assert.Equal(t, []string{"1", "2"}, []string{job(before), job(after)}, "a new job sets the new password before the pods roll")

	opts = stackOptions(t, "prod")
	db = section(t, opts, "dataplatform:database")
	db["loginGeneration"] = -1
	setSection(t, opts, "dataplatform:database", db)
	_, err = plan.Run(opts)
	assert.ErrorContains(t, err, "loginGeneration")
}

func TestPodsRollWhenTheirDatabaseLoginRotates(t *testing.T) {
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		d := objectNamed(t, p, "airbyte", "Deployment", "airbyte-worker")
		delete(d.Body["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any), plan.CredentialsAnnotation)
	})
	got := strings.Join(violations(vs, plan.RuleRotation), "\n")
	assert.Contains(t, got, "pods of Deployment airbyte/airbyte-worker: read Secret airbyte-db-credentials, which holds credentials airbyte_blue")
}

// loginJobDatabases returns the database each app's login job makes and
// logs in to (its PGDATABASE), by app.
func loginJobDatabases(t *testing.T, p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, app := range []string{"airbyte", "airflow"} {
		c := at(findByName(t, p, "kubernetes:batch/v1:Job", app+"-logins").Inputs, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
		for _, e := range c["env"].([]any) {
			if env := e.(map[string]any); env["name"] == "PGDATABASE" {
				out[app] = str(env, "value")
			}
		}
	}
	return out
}

// dev's apps share one RDS instance (database.sharedInstance) but not a
// database: each app's login job makes the app's own, and the apps connect
// to their own. prod keeps an instance per app.
func TestSharedInstanceKeepsADatabasePerApp(t *testing.T) {
	for stack, instances := range map[string]int{"dev": 1, "prod": 2} {
		p := stackPlan(t, stack)
		var primaries []plan.Resource
		for _, r := range p.Find("aws:rds/instance:Instance") {
			if str(r.Inputs, "replicateSourceDb") == "" {
				primaries = append(primaries, r)
			}
		}
		require.Len(t, primaries, instances, stack)
		if instances == 1 {
			assert.Nil(t, primaries[0].Inputs["dbName"], "the shared instance has no database of its own")
			assert.Equal(t, p.Outputs["airbyteDatabase"], p.Outputs["airflowDatabase"])
		}
		assert.Equal(t, map[string]string{"airbyte": "airbyte", "airflow": "airflow"}, loginJobDatabases(t, p), stack)
		assert.Equal(t, "airbyte"+airbyte.JDBCParams, str(values(t, p, "airbyte"), "global", "database", "name"), stack)
		// Each primary has its alarms once, however many apps it serves.
		for _, db := range primaries {
			n := 0
			for _, a := range p.Find("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if str(a.Inputs, "dimensions", "DBInstanceIdentifier") == str(db.Inputs, "identifier") {
					n++
				}
			}
			assert.Equal(t, 3, n, "alarms of %s", str(db.Inputs, "identifier"))
		}
	}
	// Negative control: without sharedInstance, dev has an instance per app.
	opts := stackOptions(t, "dev")
	setIn("dataplatform:database", "sharedInstance", false)(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	assert.Len(t, p.Find("aws:rds/instance:Instance"), 2)
	assert.NotEqual(t, p.Outputs["airbyteDatabase"], p.Outputs["airflowDatabase"])
}
