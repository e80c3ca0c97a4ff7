package bed

import (
	"fmt"
	"os"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Update is a second `pulumi up` with a changed config, in two steps, as
// Pulumi orders it: the new login Jobs run first (the apps' releases wait
// for them), then the pods whose templates or secrets changed roll.
type Update struct {
	b    *Bed
	next *planjson.Plan
	path string
}

// Update starts an update to the plan at path: its secrets' test values
// (a login rotated by database.loginGeneration gets a new password; the
// rest keep theirs) and its login Jobs, run against the bed's instances.
func (b *Bed) Update(path string) (*Update, error) {
	next, err := planjson.Read(path)
	if err != nil {
		return nil, err
	}
	if next.Stack != b.Plan.Stack {
		return nil, fmt.Errorf("plan %s is of stack %s, the bed's of %s", path, next.Stack, b.Plan.Stack)
	}
	before := map[string]string{}
	for app, job := range b.LoginJobs() {
		before[app] = fmt.Sprint(job.Map)
	}
	b.Plan, b.Objects = next, next.Objects()
	secrets, err := b.secretValues(next, b.Objects)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.State.Secrets = secrets
	b.mu.Unlock()
	for app, job := range b.LoginJobs() {
		if before[app] == fmt.Sprint(job.Map) {
			continue // unchanged: Pulumi does not run it again
		}
		if _, err := b.RunLoginJob(app, "update-"+fmt.Sprint(time.Now().Unix())); err != nil {
			return nil, err
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(b.path("plan.json"), raw, 0o644); err != nil {
		return nil, err
	}
	return &Update{b: b, next: next, path: path}, b.save()
}

// Roll restarts Airflow's pods (PgBouncer first) with the new plan's
// objects and Secrets, each in its own host, and waits until the API
// server answers again.
func (u *Update) Roll() error {
	b := u.b
	for _, host := range []string{"airflow-pgbouncer", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"} {
		b.StopHost(host)
	}
	if _, err := b.airflowPod("Deployment", "airflow-pgbouncer", "pgbouncer", false); err != nil {
		return err
	}
	if err := waitTCP(b.State.Hosts["airflow-pgbouncer"]+":6543", 30*time.Second); err != nil {
		return fmt.Errorf("PgBouncer: %w", err)
	}
	return b.startAirflowComponents()
}
