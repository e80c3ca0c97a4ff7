package tests

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/internal/rdsca"
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

// The bundle is a committed file, never a download: the stacks read the
// default one, a missing file stops the run before anything is registered
// with the command that fetches it, and so do another region's bundle, an
// expired root, and the example's fake bundle in a real account. A root
// that expires within a year is warned of.
func TestTheBundleIsAFileThatChangesOnlyOnPurpose(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join(projectDir, rdsca.DefaultFile("us-east-1")))
	require.NoError(t, err)
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		data := findByName(t, p, "kubernetes:core/v1:ConfigMap", "db-admin-rds-ca").Inputs["data"].(map[string]any)
		assert.Equal(t, string(committed), data[database.CAKey], "%s: the file is what the clients mount", stack)
		assert.Empty(t, p.Warnings, stack)
	}
	dir := projectCopy(t)
	write := func(name string, bundle []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), bundle, 0o600))
	}
	run := func(set func(*plan.Options)) (*plan.Plan, error) {
		opts := stackOptions(t, "dev")
		opts.Dir = dir
		set(&opts)
		return plan.Run(opts)
	}
	refused := func(what string, set func(*plan.Options), want ...string) {
		p, err := run(set)
		require.Error(t, err, what)
		for _, w := range append(want, "dataplatform:database.caBundleFile") {
			assert.Contains(t, err.Error(), w, what)
		}
		assert.Empty(t, p.Resources, "%s: nothing is registered", what)
	}
	fileIs := func(name string) func(*plan.Options) {
		return func(o *plan.Options) { setIn("dataplatform:database", "caBundleFile", name)(t, *o) }
	}
	refused("no file", fileIs("missing.pem"), "missing.pem does not exist", "go run ./cmd/rds-ca -region us-east-1 -out missing.pem")
	write("eu-west-1-bundle.pem", mocks.RDSCABundle("eu-west-1"))
	refused("another region's", fileIs("eu-west-1-bundle.pem"), `no "Amazon RDS us-east-1 Root CA RSA2048 G1"`)
	write("expired.pem", mocks.RDSCABundleUntil("us-east-1", time.Now().Add(-24*time.Hour)))
	refused("expired", fileIs("expired.pem"), `"Amazon RDS us-east-1 Root CA RSA2048 G1" expired on`)
	refused("the example's in a real account", func(o *plan.Options) { o.Account = "210987654321" },
		"rds-ca-bundles/us-east-1-bundle.pem is the committed example's bundle, from the offline plan's fake trust store")

	write("soon.pem", mocks.RDSCABundleUntil("us-east-1", time.Now().Add(100*24*time.Hour)))
	p, err := run(fileIs("soon.pem"))
	require.NoError(t, err)
	require.Len(t, p.Warnings, 1)
	assert.Regexp(t, `RDS CA bundle soon.pem: "Amazon RDS us-east-1 Root CA RSA2048 G1", which signs the instances' certificates, expires on \S+ \(in (99|100) days\)`, p.Warnings[0])
}

// cmd/rds-ca fetches a region's bundle over HTTPS (here from the fake
// trust store on loopback, trusted through SSL_CERT_FILE as a deployer's
// machine trusts AWS's), checks it and writes it; a bundle it must not
// trust leaves the file as it was.
func TestTheFetchCommandChecksWhatItWrites(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "rds-ca")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rds-ca")
	build.Dir = projectDir
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	serve := map[string][]byte{
		"/us-east-1/us-east-1-bundle.pem": mocks.RDSCABundle("us-east-1"),
		"/wrong/us-east-1-bundle.pem":     mocks.RDSCABundle("eu-west-1"),
		"/expired/us-east-1-bundle.pem":   mocks.RDSCABundleUntil("us-east-1", time.Now().Add(-time.Hour)),
		"/soon/us-east-1-bundle.pem":      mocks.RDSCABundleUntil("us-east-1", time.Now().Add(30*24*time.Hour)),
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := serve[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		http.Error(w, "Forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	roots := filepath.Join(t.TempDir(), "roots.pem")
	require.NoError(t, os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	dir := t.TempDir()
	fetch := func(path string) (string, error) {
		cmd := exec.Command(bin, "-region", "us-east-1", "-url", srv.URL+path)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+roots)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	file := filepath.Join(dir, rdsca.DefaultFile("us-east-1"))

	got, err := fetch("/us-east-1/us-east-1-bundle.pem")
	require.NoError(t, err, got)
	assert.Contains(t, got, "* Amazon RDS us-east-1 Root CA RSA2048 G1")
	assert.Contains(t, got, "valid 2021-05-21 to 2061-05-21")
	assert.Contains(t, got, "wrote rds-ca-bundles/us-east-1-bundle.pem (3 certificates)")
	written, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, mocks.RDSCABundle("us-east-1"), written)
	got, err = fetch("/us-east-1/us-east-1-bundle.pem")
	require.NoError(t, err, got)
	assert.Contains(t, got, "is already this bundle: nothing to commit")

	for path, want := range map[string]string{
		"/wrong/us-east-1-bundle.pem":   `no "Amazon RDS us-east-1 Root CA RSA2048 G1" among its 3 certificates`,
		"/expired/us-east-1-bundle.pem": "expired on",
		"/missing.pem":                  "403 Forbidden",
	} {
		got, err := fetch(path)
		require.Error(t, err, path)
		assert.Contains(t, got, want, path)
		after, _ := os.ReadFile(file)
		assert.Equal(t, written, after, "%s: the file is left as it was", path)
	}
	got, err = fetch("/soon/us-east-1-bundle.pem")
	require.NoError(t, err, got)
	assert.Contains(t, got, "warning: RDS CA bundle")
	assert.Contains(t, got, "expires on")
	// An untrusted server is refused (no SSL_CERT_FILE: the system's roots).
	cmd := exec.Command(bin, "-region", "us-east-1", "-url", srv.URL+"/us-east-1/us-east-1-bundle.pem", "-out", filepath.Join(dir, "x.pem"))
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE=/dev/null")
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(b), "certificate")
}
