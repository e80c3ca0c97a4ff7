//go:build testbed

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// login is an app's login of a color, with its test password.
func login(t *testing.T, app, color string) (string, string) {
	t.Helper()
	for _, v := range b.State.Secrets {
		var m map[string]string
		if json.Unmarshal([]byte(v), &m) == nil && m["username"] == app+"_"+color {
			return m["username"], m["password"]
		}
	}
	t.Fatalf("no secret holds the login %s_%s", app, color)
	return "", ""
}

// instanceOf is the RDS instance an app's login job connects to.
func instanceOf(t *testing.T, app string) bed.Database {
	t.Helper()
	for _, job := range b.LoginJobs() {
		if job.Labels()["dataplatform.io/app"] != app {
			continue
		}
		for _, db := range b.State.Databases {
			if strings.Contains(fmt.Sprint(job.Map), db.Address) {
				return db
			}
		}
	}
	t.Fatalf("no instance for %s", app)
	return bed.Database{}
}

// psql connects as libpq does (psql from the laptop), verifying the
// server's certificate and host name against the bed's CA, and runs sql.
func psql(t *testing.T, db bed.Database, user, password, dbname, sql string) (string, error) {
	t.Helper()
	out, err := b.Client(bed.LaptopHost, []string{"PGHOST=" + db.Address, "PGPORT=5432", "PGUSER=" + user, "PGPASSWORD=" + password,
		"PGDATABASE=" + dbname, "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + b.State.CA, "PGCONNECT_TIMEOUT=10"},
		b.Tools.Psql, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql)
	return strings.TrimSpace(out), err
}

// Each app's logins reach what its software reaches, as the app's owner
// role; neither app's logins reach the other's databases; Airflow reaches
// its database only through PgBouncer, which connects to RDS over TLS as
// Airflow's login.
func TestEachAppsLoginsReachItsOwnDatabasesOnly(t *testing.T) {
	databases := map[string][]string{"airflow": {"airflow"}, "airbyte": {"airbyte", "temporal", "temporal_visibility"}}
	for app, dbs := range databases {
		for _, color := range []string{"blue", "green"} {
			user, pw := login(t, app, color)
			for _, d := range dbs {
				got, err := psql(t, instanceOf(t, app), user, pw, d, "SELECT current_user")
				if err != nil || got != app+"_owner" {
					t.Errorf("%s on %s: %q, %v (want to act as %s_owner)", user, d, got, err, app)
				}
			}
			for other, odbs := range databases {
				if other == app {
					continue
				}
				for _, d := range odbs {
					out, err := psql(t, instanceOf(t, other), user, pw, d, "SELECT 1")
					if err == nil {
						t.Errorf("%s connects to %s's database %s", user, other, d)
					} else if !strings.Contains(out, "permission denied for database") && !strings.Contains(out, "password authentication failed") {
						t.Errorf("%s on %s: refused for another reason: %s", user, d, out)
					}
				}
			}
		}
	}
	// Airflow's own client: the API server's connection string, through
	// PgBouncer.
	if out, err := b.RunIn("Deployment", "airflow", "airflow-api-server", "api-server", "probe-airflow-db", []string{"airflow", "db", "check"}); err != nil {
		t.Fatalf("airflow db check with the API server's environment: %v\n%s", err, out)
	}
	db := instanceOf(t, "airflow")
	sessions, err := b.Admin(db, "postgres", `SELECT DISTINCT a.usename || ' ' || s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = 'airflow' AND a.backend_type = 'client backend'`)
	if err != nil {
		t.Fatal(err)
	}
	if sessions != "airflow_blue true" {
		t.Errorf("Airflow's sessions at RDS (user, TLS): %q, want only airflow_blue over TLS (through PgBouncer)", sessions)
	}
}

// The RDS master password reaches only the login jobs: no process of an
// app's pods has it in its environment, and no file mounted in them holds
// it.
func TestTheMasterPasswordIsInNoAppsPod(t *testing.T) {
	var masters []string
	for _, db := range b.State.Databases {
		masters = append(masters, db.MasterPassword)
	}
	checked := 0
	for _, p := range b.State.Procs {
		if !strings.HasPrefix(p.Name, "airflow-") && !strings.HasPrefix(p.Name, "airbyte-") {
			continue
		}
		env, err := bed.Environ(p.PID)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		checked++
		for _, kv := range env {
			for _, m := range masters {
				if strings.Contains(kv, m) {
					k, _, _ := strings.Cut(kv, "=")
					t.Errorf("process %s has the RDS master password in %s", p.Name, k)
				}
			}
		}
	}
	files := 0
	_ = filepath.Walk(b.Dir+"/pods", func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(path, "/db-admin-") {
			return nil
		}
		raw, _ := os.ReadFile(path)
		files++
		for _, m := range masters {
			if strings.Contains(string(raw), m) {
				t.Errorf("%s (mounted in an app's pod) holds the RDS master password", path)
			}
		}
		return nil
	})
	if checked == 0 || files == 0 {
		t.Fatalf("checked %d processes and %d files: nothing to check", checked, files)
	}
}
