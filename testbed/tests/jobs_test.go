//go:build testbed

package tests

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// The login jobs succeed on fresh instances shaped as the plan's, whichever
// app's runs first, both at once (a shared instance), and again as a
// second `pulumi up` would run them; after each, RDS's own databases still
// belong to the master user, each app's databases to its owner role, and
// no app's logins reach another's.
func TestTheLoginJobsWorkInEveryOrderAndOnEveryRerun(t *testing.T) {
	apps := []string{"airbyte", "airflow"}
	scenarios := []struct {
		name       string
		concurrent bool
		order      []string
	}{
		{"airflow first", false, []string{"airflow", "airbyte"}},
		{"airbyte first", false, []string{"airbyte", "airflow"}},
		{"both at once", true, apps},
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			scratch, err := b.ScratchDatabases(fmt.Sprintf("s%d", i))
			if err != nil {
				t.Fatal(err)
			}
			for _, run := range []string{"first", "rerun"} {
				if sc.concurrent {
					var wg sync.WaitGroup
					errs := make([]error, len(sc.order))
					for j, app := range sc.order {
						wg.Add(1)
						go func() {
							defer wg.Done()
							_, errs[j] = b.RunLoginJobAt(app, fmt.Sprintf("s%d-%s", i, run), scratch.HostsFile)
						}()
					}
					wg.Wait()
					for _, err := range errs {
						if err != nil {
							t.Fatalf("%s run: %v", run, err)
						}
					}
				} else {
					for _, app := range sc.order {
						if out, err := b.RunLoginJobAt(app, fmt.Sprintf("s%d-%s", i, run), scratch.HostsFile); err != nil {
							t.Fatalf("%s run of %s: %v\n%s", run, app, err, out)
						}
					}
				}
				checkInstances(t, scratch)
			}
		})
	}
}

// checkInstances asserts what the login jobs must leave on the instances.
func checkInstances(t *testing.T, sc *bed.Scratch) {
	t.Helper()
	own := map[string]string{"airflow": "airflow_owner", "airbyte": "airbyte_owner", "temporal": "airbyte_owner", "temporal_visibility": "airbyte_owner"}
	for _, db := range sc.Databases {
		rows, err := b.Admin(db, "postgres", `SELECT datname || ' ' || pg_get_userbyid(datdba) || ' ' ||
			has_database_privilege('public', datname, 'CONNECT') FROM pg_database ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range strings.Split(rows, "\n") {
			f := strings.Fields(row)
			name, owner, public := f[0], f[1], f[2]
			switch {
			case name == "postgres" || name == "template1":
				if owner != db.MasterUsername {
					t.Errorf("%s: RDS's %s belongs to %s, not the master user %s", db.Identifier, name, owner, db.MasterUsername)
				}
			case own[name] != "":
				if owner != own[name] {
					t.Errorf("%s: %s belongs to %s, want %s", db.Identifier, name, owner, own[name])
				}
				if public != "false" {
					t.Errorf("%s: PUBLIC may connect to %s", db.Identifier, name)
				}
			}
		}
	}
	for app, dbname := range map[string]string{"airflow": "airflow", "airbyte": "airbyte"} {
		for _, color := range []string{"blue", "green"} {
			user, pw := login(t, app, color)
			for _, db := range sc.Databases {
				out, err := psqlVia(t, sc, db, user, pw, dbname, "SELECT current_user")
				holds := hasDatabase(t, db, dbname)
				switch {
				case holds && (err != nil || out != app+"_owner"):
					t.Errorf("%s on %s/%s: %q %v", user, db.Identifier, dbname, out, err)
				case !holds && err == nil:
					t.Errorf("%s connects to %s on %s, which is not its instance", user, dbname, db.Identifier)
				}
			}
			other := map[string]string{"airflow": "airbyte", "airbyte": "airflow"}[app]
			for _, db := range sc.Databases {
				if _, err := psqlVia(t, sc, db, user, pw, other, "SELECT 1"); err == nil {
					t.Errorf("%s connects to %s's database on %s", user, other, db.Identifier)
				}
			}
		}
	}
	for _, db := range sc.Databases {
		if _, err := psqlVia(t, sc, db, db.MasterUsername, db.MasterPassword, "postgres", "SELECT 1"); err != nil {
			t.Errorf("the master user cannot connect to postgres on %s: %v", db.Identifier, err)
		}
	}
}

func hasDatabase(t *testing.T, db bed.Database, name string) bool {
	out, err := b.Admin(db, "postgres", "SELECT count(*) FROM pg_database WHERE datname = '"+name+"'")
	if err != nil {
		t.Fatal(err)
	}
	return out == "1"
}

// psqlVia is psql from the laptop to a scratch instance (its address
// resolved through the scratch's hosts file).
func psqlVia(t *testing.T, sc *bed.Scratch, db bed.Database, user, password, dbname, sql string) (string, error) {
	t.Helper()
	out, err := b.ClientWithHosts(bed.LaptopHost, sc.HostsFile, []string{"PGHOST=" + db.Address, "PGPORT=5432", "PGUSER=" + user, "PGPASSWORD=" + password,
		"PGDATABASE=" + dbname, "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + b.State.CA, "PGCONNECT_TIMEOUT=10"},
		b.Tools.Psql, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql)
	return strings.TrimSpace(out), err
}
