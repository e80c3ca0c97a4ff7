//go:build testbed

package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Raising database.loginGeneration by one (the plans of generations 2 and
// 3, which testbed/run writes with cmd/plan -set) rotates the standby
// login: its new Job sets the new password while the pods still run on the
// active login, which keeps working; the pods roll onto the new login; the
// old password of the rotated login no longer works.
func TestARotationKeepsAirflowConnectedAndRetiresTheOldPassword(t *testing.T) {
	gen2, gen3 := os.Getenv("TESTBED_PLAN_GEN2"), os.Getenv("TESTBED_PLAN_GEN3")
	if gen2 == "" || gen3 == "" {
		t.Fatal("TESTBED_PLAN_GEN2 and TESTBED_PLAN_GEN3 must name the stack's plans at loginGeneration 2 and 3 (testbed/run writes them)")
	}
	db := instanceOf(t, "airflow")
	blue1User, blue1 := login(t, "airflow", "blue")
	_, green0 := login(t, "airflow", "green")
	steps := []struct {
		plan, active, rotated string
		old                   string // the rotated login's password before
		kept                  string // the other login's, which must still work
	}{
		{gen2, "airflow_green", "airflow_green", green0, blue1},
		{gen3, "airflow_blue", "airflow_blue", "", ""},
	}
	for i, st := range steps {
		if i == 1 {
			_, st.old = login(t, "airflow", "blue")
			_, st.kept = login(t, "airflow", "green")
		}
		up, err := b.Update(st.plan)
		if err != nil {
			t.Fatalf("generation %d: %v", i+2, err)
		}
		// Before the pods roll: they still run on the other login, which
		// works.
		if err := airflowHealthy(t); err != nil {
			t.Fatalf("generation %d, before the pods roll: %v", i+2, err)
		}
		if err := up.Roll(); err != nil {
			t.Fatalf("generation %d: %v", i+2, err)
		}
		eventually(t, 2*time.Minute, "Airflow is healthy after the roll", func() error { return airflowHealthy(t) })
		sessions, err := b.Admin(db, "postgres", `SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE datname = 'airflow' AND backend_type = 'client backend'`)
		if err != nil || sessions != st.active {
			t.Errorf("generation %d: Airflow's sessions are %q (%v), want %s", i+2, sessions, err, st.active)
		}
		if out, err := psql(t, db, st.rotated, st.old, "airflow", "SELECT 1"); err == nil || !strings.Contains(out, "password authentication failed") {
			t.Errorf("generation %d: %s still logs in with its old password (%v %s)", i+2, st.rotated, err, out)
		}
		other := map[string]string{"airflow_green": "airflow_blue", "airflow_blue": "airflow_green"}[st.rotated]
		if _, err := psql(t, db, other, st.kept, "airflow", "SELECT 1"); err != nil {
			t.Errorf("generation %d: %s, not rotated, no longer logs in: %v", i+2, other, err)
		}
		user, pw := login(t, "airflow", strings.TrimPrefix(st.rotated, "airflow_"))
		if _, err := psql(t, db, user, pw, "airflow", "SELECT 1"); err != nil {
			t.Errorf("generation %d: %s does not log in with its new password: %v", i+2, user, err)
		}
	}
	_ = blue1User
}

// airflowHealthy asks the API server, through the load balancer, whether
// its metadata database answers (from the laptop, with curl).
func airflowHealthy(t *testing.T) error {
	t.Helper()
	out, err := b.Client("laptop", []string{}, "curl", "-sS", "-L", "--max-time", "10", "--cacert", b.State.CA, b.State.Airflow.URL+"/api/v2/monitor/health")
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	if !strings.Contains(out, `"metadatabase":{"status":"healthy"}`) {
		return fmt.Errorf("health: %s", out)
	}
	return nil
}
