package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
)

// Every client of RDS, read from the rendered charts and the program's
// Jobs, verifies the server's certificate chain and host name.
func TestEveryDatabaseClientVerifiesTheServer(t *testing.T) {
	want := []string{
		"Deployment airbyte/airbyte-cron airbyte-cron jdbc",
		"Deployment airbyte/airbyte-server airbyte-server-container jdbc",
		"Deployment airbyte/airbyte-temporal airbyte-temporal temporal",
		"Deployment airbyte/airbyte-worker airbyte-worker-container jdbc",
		"Deployment airbyte/airbyte-workload-api-server airbyte-workload-api-server-container jdbc",
		"Deployment airbyte/airbyte-workload-launcher airbyte-workload-launcher-container jdbc",
		"Deployment airflow/airflow-pgbouncer pgbouncer pgbouncer",
		"Job db-admin/ psql libpq",
		"Job db-admin/ psql libpq",
		"Pod airbyte/airbyte-bootloader airbyte-bootloader-container jdbc",
	}
	for _, stack := range []string{"dev", "prod"} {
		var got []string
		for _, c := range stackPlan(t, stack).DatabaseClients() {
			got = append(got, c.Pod+" "+c.Container+" "+strings.Join(c.Clients, ","))
			assert.Empty(t, c.Problems, "%s %s", c.Pod, c.Container)
		}
		sort.Strings(got)
		assert.Equal(t, want, got, stack)
	}
}

// Each way a client can stop verifying the server is caught.
func TestTheDatabaseTLSCheckCatchesEveryUnverifiedClient(t *testing.T) {
	env := func(p *plan.Plan) map[string]any {
		return objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env").Body["data"].(map[string]any)
	}
	containerOf := func(p *plan.Plan, release, kind, name string) map[string]any {
		spec, ok := plan.PodSpec(objectNamed(t, p, release, kind, name).Body, kind)
		require.True(t, ok)
		return spec["containers"].([]any)[0].(map[string]any)
	}
	for _, c := range []struct {
		name  string
		broke func(p *plan.Plan)
		want  string
	}{
		{"JDBC without verify-full", func(p *plan.Plan) {
			env(p)["DATABASE_URL"] = strings.Replace(env(p)["DATABASE_URL"].(string), "verify-full", "require", 1)
		}, `DATABASE_URL connects with sslmode "require", not verify-full`},
		{"a bundle that is not mounted", func(p *plan.Plan) {
			containerOf(p, "airbyte", "Deployment", "airbyte-server")["volumeMounts"] = []any{}
		}, "DATABASE_URL's sslrootcert " + database.CAFile + " is not mounted"},
		{"another region's bundle", func(p *plan.Plan) {
			for i := range p.Resources {
				if p.Resources[i].Type == "kubernetes:core/v1:ConfigMap" && str(p.Resources[i].Inputs, "metadata", "namespace") == "airbyte" &&
					str(p.Resources[i].Inputs, "metadata", "name") == database.CAConfigMapName {
					p.Resources[i].Inputs["data"] = map[string]any{database.CAKey: string(mocks.RDSCABundle("eu-west-1"))}
				}
			}
		}, `no "Amazon RDS us-east-1 Root CA RSA2048 G1"`},
		{"Temporal skipping the host name", func(p *plan.Plan) {
			ctr := containerOf(p, "airbyte", "Deployment", "airbyte-temporal")
			var kept []any
			for _, e := range ctr["env"].([]any) {
				if e.(map[string]any)["name"] != "SQL_HOST_VERIFICATION" {
					kept = append(kept, e)
				}
			}
			ctr["env"] = kept
		}, `Temporal's SQL_HOST_VERIFICATION is "", want "true"`},
		{"the chart's own host verification switch winning", func(p *plan.Plan) {
			ctr := containerOf(p, "airbyte", "Deployment", "airbyte-temporal")
			ctr["env"] = append(ctr["env"].([]any), map[string]any{"name": "POSTGRES_TLS_DISABLE_HOST_VERIFICATION", "value": "true"})
		}, `POSTGRES_TLS_DISABLE_HOST_VERIFICATION is "true"`},
		{"libpq with sslmode require", func(p *plan.Plan) {
			for i := range p.Resources {
				if p.Resources[i].Type == "kubernetes:batch/v1:Job" && p.Resources[i].Name == "airbyte-logins" {
					ctr := at(p.Resources[i].Inputs, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
					for _, e := range ctr["env"].([]any) {
						if e.(map[string]any)["name"] == "PGSSLMODE" {
							e.(map[string]any)["value"] = "require"
						}
					}
				}
			}
		}, `PGSSLMODE "require", not verify-full`},
		{"PgBouncer with server_tls_sslmode require", func(p *plan.Plan) {
			for i := range p.Resources {
				if p.Resources[i].Type == "kubernetes:external-secrets.io/v1:ExternalSecret" && strings.HasSuffix(p.Resources[i].Name, "pgbouncer-config") {
					data := at(p.Resources[i].Inputs, "spec", "target", "template", "data").(map[string]any)
					data["pgbouncer.ini"] = strings.Replace(data["pgbouncer.ini"].(string), "verify-full", "require", 1)
				}
			}
		}, `server_tls_sslmode "require"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(violations(breakObjects(t, "dev", c.broke), plan.RuleDatabaseTLS), "\n")
			assert.Contains(t, got, c.want)
		})
	}
}

// A bundle is accepted only when it verifies the region's instances.
func TestTheRDSBundleMustHoldTheRegionsRootCA(t *testing.T) {
	good := mocks.RDSCABundle("us-east-1")
	require.NoError(t, database.CheckCABundle(good, "us-east-1", "test"))
	for name, c := range map[string]struct {
		bundle []byte
		want   string
	}{
		"another region's":   {mocks.RDSCABundle("eu-west-1"), `no "Amazon RDS us-east-1 Root CA RSA2048 G1" among its 3 certificates`},
		"empty":              {nil, "no PEM certificate"},
		"an HTML error page": {[]byte("<html>403 Forbidden</html>"), "no PEM certificate"},
		"a private key":      {[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds a PRIVATE KEY block"},
	} {
		err := database.CheckCABundle(c.bundle, "us-east-1", "test")
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

// A deployer who cannot reach AWS's trust store names a bundle file; a
// wrong one stops the deploy before anything is created, naming the field.
func TestTheBundleFileReplacesTheDownload(t *testing.T) {
	dir := projectCopy(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "us-east-1-bundle.pem"), mocks.RDSCABundle("us-east-1"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "eu-west-1-bundle.pem"), mocks.RDSCABundle("eu-west-1"), 0o600))

	opts := stackOptions(t, "dev")
	opts.Dir = dir
	setIn("dataplatform:database", "caBundleFile", "us-east-1-bundle.pem")(t, opts)
	opts.Tools = offlineMachine{}
	p, err := plan.Run(opts)
	require.NoError(t, err, "the file stands in for the download")
	assert.Empty(t, violations(p.CheckObjects(), plan.RuleDatabaseTLS))

	setIn("dataplatform:database", "caBundleFile", "eu-west-1-bundle.pem")(t, opts)
	p, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataplatform:database.caBundleFile")
	assert.Contains(t, err.Error(), `no "Amazon RDS us-east-1 Root CA RSA2048 G1"`)
	assert.Empty(t, p.Resources, "nothing is registered")

	setIn("dataplatform:database", "caBundleFile", nil)(t, opts)
	p, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "truststore.pki.rds.amazonaws.com")
	assert.Contains(t, err.Error(), "dataplatform:database.caBundleFile")
	assert.Empty(t, p.Resources, "nothing is registered")
}

// offlineMachine has every tool but cannot reach AWS's trust store.
type offlineMachine struct{ plan.DeployMachine }

func (offlineMachine) RDSCABundle(region string) ([]byte, error) {
	return nil, os.ErrDeadlineExceeded
}
