package bed

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/pki"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Up brings a bed up in dir from the plan at planPath: every part the
// plan configures, started in the order `pulumi up` creates them.
func Up(dir string, tools Tools, planPath string, log func(string, ...any)) (*Bed, error) {
	_ = Down(dir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	for _, d := range []string{dir, dir + "/logs", dir + "/procs", dir + "/pods", dir + "/ca"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	raw, err := os.ReadFile(planPath)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(dir+"/plan.json", raw, 0o644); err != nil {
		return nil, err
	}
	p, err := planjson.Read(planPath)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, 16)
	_, _ = rand.Read(seed)
	b := &Bed{Dir: dir, Tools: tools, Plan: p, Objects: p.Objects(), State: State{
		Stack: p.Stack, Seed: hex.EncodeToString(seed), Hosts: map[string]string{}, Names: map[string]string{}, RepoDir: tools.RepoDir,
	}}
	if err := b.writeHosts(); err != nil {
		return nil, err
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"network", func() error {
			if err := netUp(); err != nil {
				return err
			}
			return b.startLaptop()
		}},
		{"certificate authorities", b.makeCAs},
		{"test values of the plan's secrets", func() error {
			var err error
			b.State.Secrets, err = b.secretValues(p, b.Objects)
			return err
		}},
		{"RDS instances (PostgreSQL)", func() error { return b.startDatabases(b.ca) }},
		{"login jobs", func() error { return b.RunLoginJobs(nil, "up") }},
		{"AWS (moto)", b.startAWS},
		{"Cognito (oidc-provider)", b.startCognito},
		{"Airflow", b.startAirflow},
		{"load balancer (nginx)", func() error { return b.startALB(airflowNS) }},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.f(); err != nil {
			return b, fmt.Errorf("%s: %w", s.name, err)
		}
		log("%-40s %6.1fs", s.name, time.Since(start).Seconds())
		if err := b.save(); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (b *Bed) makeCAs() error {
	ca, err := pki.NewCA("dataplatform test bed CA (in place of RDS's rds-ca-rsa2048-g1 and the public CAs)")
	if err != nil {
		return err
	}
	other, err := pki.NewCA("a CA nothing in the bed trusts")
	if err != nil {
		return err
	}
	b.ca, b.other = ca, other
	b.State.CA, b.State.OtherCA = b.path("ca", "ca.pem"), b.path("ca", "other-ca.pem")
	for _, c := range []struct {
		ca   *pki.CA
		path string
	}{{ca, b.State.CA}, {other, b.State.OtherCA}} {
		key, err := c.ca.KeyPEM()
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.path, c.ca.PEM, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(strings.TrimSuffix(c.path, ".pem")+".key", key, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// loadCA reads the bed's CAs back (a bed opened after Up).
func (b *Bed) loadCA() error {
	var err error
	for _, c := range []struct {
		dst  **pki.CA
		path string
	}{{&b.ca, b.State.CA}, {&b.other, b.State.OtherCA}} {
		cert, e1 := os.ReadFile(c.path)
		key, e2 := os.ReadFile(strings.TrimSuffix(c.path, ".pem") + ".key")
		if e1 != nil || e2 != nil {
			return fmt.Errorf("the bed's CA: %v %v", e1, e2)
		}
		if *c.dst, err = pki.LoadCA(c.path, cert, key); err != nil {
			return err
		}
	}
	return nil
}

// LoginJobs are the plan's login Jobs (namespace db-admin), by app.
func (b *Bed) LoginJobs() map[string]planjson.Object {
	out := map[string]planjson.Object{}
	for _, o := range b.Objects {
		if o.Kind() == "Job" && o.Labels()["app.kubernetes.io/name"] == "db-logins" {
			out[o.Labels()["dataplatform.io/app"]] = o
		}
	}
	return out
}

// RunLoginJobs runs the login Job of each app in order (every app in the
// plan's order when apps is nil), one after another, as its pod would run:
// the rendered script and environment, the master credentials and login
// verifiers from the synced Secrets, and the CA ConfigMap mounted.
func (b *Bed) RunLoginJobs(apps []string, run string) error {
	jobs := b.LoginJobs()
	if apps == nil {
		for app := range jobs {
			apps = append(apps, app)
		}
		sort.Strings(apps)
	}
	for _, app := range apps {
		if _, err := b.RunLoginJob(app, run); err != nil {
			return err
		}
	}
	return nil
}

// RunLoginJob runs one app's login Job once and returns its output.
func (b *Bed) RunLoginJob(app, run string) (string, error) {
	job, ok := b.LoginJobs()[app]
	if !ok {
		return "", fmt.Errorf("the plan has no login job for %s", app)
	}
	return b.RunPod(PodRun{Object: &job, Container: "psql", Name: fmt.Sprintf("%s-logins-%s", app, run), Host: "db-admin-" + app + "-logins"}, 2*time.Minute)
}

// RunLoginJobAt runs an app's login Job with the plan's addresses
// resolved through hostsFile (a Scratch's instances), as the n-th run.
func (b *Bed) RunLoginJobAt(app, run, hostsFile string) (string, error) {
	job, ok := b.LoginJobs()[app]
	if !ok {
		return "", fmt.Errorf("the plan has no login job for %s", app)
	}
	return b.RunPod(PodRun{Object: &job, Container: "psql", Name: fmt.Sprintf("%s-logins-%s", app, run),
		Host: "db-admin-" + app + "-logins-" + run, HostsFile: hostsFile}, 2*time.Minute)
}
