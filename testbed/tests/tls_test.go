//go:build testbed

package tests

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// jdbc runs the JDBC probe with the environment of Airbyte's server (its
// DATABASE_URL, user and password as the chart renders them), in a new
// pod of the server's, with names resolved through hostsFile ("" for the
// bed's).
func jdbc(t *testing.T, hostsFile string, extraEnv []string, sql ...string) (string, error) {
	t.Helper()
	probe := filepath.Join(b.Tools.RepoDir, "testbed", "probes", "JdbcProbe.java")
	o, err := b.WorkloadObject("Deployment", "airbyte", "airbyte-server")
	if err != nil {
		t.Fatal(err)
	}
	return b.RunPod(bed.PodRun{Object: &o, Container: "airbyte-server-container", Name: "jdbc-probe-" + time.Now().Format("150405.000"),
		Host: "probe-airbyte-server", HostsFile: hostsFile, Env: extraEnv,
		Argv: append([]string{b.Tools.Java, "-cp", b.Tools.PgJDBC, probe}, sql...)}, 3*time.Minute)
}

// Airbyte's Java services connect with pgjdbc (the version Airbyte ships)
// through the chart's JDBC URLs, as Airbyte's own login acting as its
// owner role, over TLS that verifies RDS's certificate.
func TestAirbytesJDBCURLsConnectAsItsLogin(t *testing.T) {
	// The instance admits TLS only (rds.force_ssl from the parameter
	// group), so a connection is a TLS one; TestEveryTLSClientRefuses...
	// shows the driver verifies it.
	out, err := jdbc(t, "", nil, "SELECT current_user", "CREATE TABLE IF NOT EXISTS testbed_probe (i int)", "DROP TABLE testbed_probe")
	if err != nil {
		t.Fatalf("the server's DATABASE_URL: %v\n%s", err, out)
	}
	if lines := strings.Fields(out); len(lines) != 3 || lines[0] != "airbyte_owner" {
		t.Fatalf("connected as %q (want airbyte_owner, able to create a table)", out)
	}
	rn, err := b.Container("Deployment", "airbyte", "airbyte-server", "airbyte-server-container")
	if err != nil {
		t.Fatal(err)
	}
	if replica := rn.Value("CONFIG_DATABASE_REPLICA_URL"); replica != "" {
		if out, err := jdbc(t, "", []string{"DATABASE_URL=" + replica}, "SELECT current_user"); err != nil || strings.TrimSpace(out) != "airbyte_owner" {
			t.Fatalf("the replica URL %s: %v %s", replica, err, out)
		}
	}
}

// Every TLS client of the platform refuses a server whose certificate
// comes from another CA, and one whose certificate names another host:
// libpq (the login jobs), PgBouncer (Airflow's way to RDS), pgjdbc
// (Airbyte), Python's requests (Airflow's sign-in to Cognito) and botocore
// (Airflow's secrets backend and logs). Substituted: an impostor answers
// every name of the bed.
func TestEveryTLSClientRefusesAServerItMustNotTrust(t *testing.T) {
	for _, kind := range []string{"other-ca", "wrong-name"} {
		t.Run(kind, func(t *testing.T) {
			imp, err := b.Impostor(kind)
			if err != nil {
				t.Fatal(err)
			}
			refused := func(client, out string, err error) {
				t.Helper()
				if err == nil {
					t.Errorf("%s trusted the %s impostor:\n%s", client, kind, out)
					return
				}
				out += "\n" + err.Error()
				want := map[string][]string{
					"other-ca":   {"certificate verify failed", "PKIX path building failed", "CERTIFICATE_VERIFY_FAILED", "unable to get local issuer certificate", "unknown authority"},
					"wrong-name": {"does not match host name", "could not be verified", "Hostname mismatch", "doesn't match", "not valid for", "not present in server certificate"},
				}[kind]
				for _, w := range want {
					if strings.Contains(out, w) {
						return
					}
				}
				t.Errorf("%s failed, but not over the certificate (%s):\n%s", client, kind, out)
			}
			for _, app := range []string{"airflow", "airbyte"} {
				out, err := b.RunLoginJobAt(app, "impostor-"+kind, imp.HostsFile)
				refused("libpq ("+app+"'s login job)", out, err)
			}
			out, err := jdbc(t, imp.HostsFile, nil, "SELECT 1")
			refused("pgjdbc (Airbyte's server)", out, err)
			out, err = b.PgBouncerThrough(imp.HostsFile, "probe-pgbouncer-"+kind)
			refused("PgBouncer", out, err)
			boto := `import boto3
print(boto3.client("secretsmanager").list_secrets(MaxResults=1))`
			out, err = b.RunIn("Deployment", "airflow", "airflow-scheduler", "scheduler", "probe-boto-"+kind, []string{"python", "-c", boto}, bed.WithHosts(imp.HostsFile))
			refused("botocore (Airflow's secrets backend)", out, err)
			if !stackHasSSO() {
				return // no OAuth client, no sign-in endpoint to reach
			}
			issuer := "https://cognito-idp." + b.Plan.Output("region") + ".amazonaws.com/"
			py := `import sys, requests
r = requests.get(sys.argv[1], timeout=10)
print(r.status_code)`
			out, err = b.RunIn("Deployment", "airflow", "airflow-api-server", "api-server", "probe-requests-"+kind, []string{"python", "-c", py, issuer}, bed.WithHosts(imp.HostsFile))
			refused("requests (Airflow's OAuth client)", out, err)
		})
	}
}
