// Package bed runs the platform's software on this machine, configured from
// the offline plan of a stack: PostgreSQL set up as RDS sets up an
// instance, the login jobs, PgBouncer, Airflow, a Cognito-shaped OpenID
// provider, AWS's APIs (moto), and the load balancer's TLS proxy. Each runs
// in a network namespace of its own on a bridge, reaching the others by the
// names the plan uses. Only addresses, trust anchors and the values of
// secrets differ from a real deploy; each substitution is named where it
// is made (see the README of the test bed).
package bed

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/eso"
	"github.com/dataplatform/dataplatform/testbed/internal/pki"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Tools are the programs the bed runs, as installed by testbed/install
// (its tools.json).
type Tools struct {
	PostgresBin string `json:"postgresBin"`
	Psql        string `json:"psql"`
	PgBouncer   string `json:"pgbouncer"`
	Nginx       string `json:"nginx"`
	AirflowVenv string `json:"airflowVenv"`
	MotoVenv    string `json:"motoVenv"`
	Node        string `json:"node"`
	OIDCDir     string `json:"oidcDir"`
	Chromium    string `json:"chromium"`
	Java        string `json:"java"`
	PgJDBC      string `json:"pgjdbc"`
	Temporal    string `json:"temporal"`
	TBExec      string `json:"tbexec"`
	// RepoDir is the project's checkout (the bed's own scripts).
	RepoDir string `json:"repoDir"`
}

// State is what `testbed up` leaves for the tests and for `testbed down`.
type State struct {
	Stack string `json:"stack"`
	// RepoDir is the checkout whose testbed/ scripts the bed runs.
	RepoDir string `json:"repoDir"`
	// Seed derives the test values of secrets.
	Seed string `json:"seed"`
	// Hosts are the bed's hosts and pods, by name, with their addresses.
	Hosts map[string]string `json:"hosts"`
	// Names are the DNS names the plan uses, with the address each
	// resolves to in the bed.
	Names map[string]string `json:"names"`
	Procs []*Proc           `json:"procs"`
	// Secrets are the test values of the plan's secrets, by ARN.
	Secrets map[string]string `json:"secrets"`
	// Databases are the RDS instances.
	Databases []Database `json:"databases"`
	// Users are the sign-in's test users (with SSO).
	Users []User `json:"users,omitempty"`
	// CA is the file of the bed's trust anchor (in place of RDS's bundle
	// and the public CAs); OtherCA a CA nothing trusts.
	CA      string `json:"ca"`
	OtherCA string `json:"otherCa"`
	// Airflow is what the tests need of Airflow.
	Airflow AirflowState `json:"airflow"`
	// AWSAdmin is the access key of the bed's IAM administrator (moto
	// enforces IAM once set up).
	AWSAdmin struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
	} `json:"awsAdmin"`
}

// Database is an RDS instance of the plan, running as PostgreSQL.
type Database struct {
	Identifier     string `json:"identifier"`
	Address        string `json:"address"`
	Host           string `json:"host"`
	IP             string `json:"ip"`
	MasterUsername string `json:"masterUsername"`
	MasterPassword string `json:"masterPassword"`
	// DBName is the instance's own database ("" for a shared instance).
	DBName string `json:"dbName"`
	// Socket is the directory of its Unix socket, where rdsadmin (RDS's own
	// superuser, which no customer has) sets the instance up.
	Socket string `json:"socket"`
	Data   string `json:"data"`
}

// User is a test user of the user pool.
type User struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Sub      string   `json:"sub"`
	Email    string   `json:"email"`
	Groups   []string `json:"groups"`
	// Federated users come from the external identity provider; their
	// groups arrive in the provider's groups claim.
	Federated bool `json:"federated,omitempty"`
	// Role is the Airflow role the platform should give the user ("" for
	// none).
	Role string `json:"role"`
	// Refused users may not sign in at all (a pool user where the clients
	// admit only the federated provider's).
	Refused bool `json:"refused,omitempty"`
}

// AirflowState is what the tests need of Airflow.
type AirflowState struct {
	URL           string `json:"url"`
	AdminUsername string `json:"adminUsername,omitempty"`
	AdminPassword string `json:"adminPassword,omitempty"`
	DagID         string `json:"dagId"`
}

// Bed is a test bed of one stack.
type Bed struct {
	Dir     string
	Tools   Tools
	Plan    *planjson.Plan
	Objects []planjson.Object
	State   State
	// ca signs every server certificate; other is a CA nothing trusts.
	ca, other *pki.CA
	// mu guards State: tests start pods at once.
	mu sync.Mutex
}

// Open reads the state of the bed in dir (after Up).
func Open(dir string, tools Tools) (*Bed, error) {
	b := &Bed{Dir: dir, Tools: tools}
	raw, err := os.ReadFile(b.path("state.json"))
	if err != nil {
		return nil, fmt.Errorf("no test bed in %s (run testbed/up first): %w", dir, err)
	}
	if err := json.Unmarshal(raw, &b.State); err != nil {
		return nil, err
	}
	if b.State.RepoDir != "" {
		b.Tools.RepoDir = b.State.RepoDir
	}
	if b.Plan, err = planjson.Read(b.path("plan.json")); err != nil {
		return nil, err
	}
	b.Objects = b.Plan.Objects()
	return b, nil
}

// ReadTools reads tools.json in the install cache.
func ReadTools(cache string) (Tools, error) {
	var t Tools
	raw, err := os.ReadFile(filepath.Join(cache, "tools.json"))
	if err != nil {
		return t, fmt.Errorf("the test bed's tools are not installed (run testbed/install): %w", err)
	}
	return t, json.Unmarshal(raw, &t)
}

func (b *Bed) path(parts ...string) string {
	return filepath.Join(append([]string{b.Dir}, parts...)...)
}

func (b *Bed) save() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.saveLocked()
}

func (b *Bed) saveLocked() error {
	js, err := json.MarshalIndent(b.State, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(b.path("state.json"), js, 0o600)
}

// host makes a network namespace for a host or pod and records its address.
func (b *Bed) host(name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ip, ok := b.State.Hosts[name]; ok {
		return ip, nil
	}
	ip, err := addNetns(name, len(b.State.Hosts))
	if err != nil {
		return "", err
	}
	b.State.Hosts[name] = ip
	if err := b.saveLocked(); err != nil {
		return "", err
	}
	return ip, b.writeHostsLocked()
}

// resolve points DNS names at an address, in every host's /etc/hosts.
func (b *Bed) resolve(ip string, names ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range names {
		b.State.Names[n] = ip
	}
	return b.writeHostsLocked()
}

func (b *Bed) writeHostsLocked() error { return b.writeHostsFrom(b.State.Hosts, b.State.Names) }

func (b *Bed) writeHosts() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeHostsLocked()
}

func (b *Bed) writeHostsFrom(hosts, bedNames map[string]string) error {
	// Every host's own name too: a pod resolves its hostname, as the
	// kubelet's /etc/hosts lets it.
	names := map[string]string{}
	for h, ip := range hosts {
		names[h] = ip
	}
	for n, ip := range bedNames {
		names[n] = ip
	}
	text := hostsText(names)
	if err := os.WriteFile(b.path("hosts"), []byte(text), 0o644); err != nil {
		return err
	}
	if _, ok := b.State.Hosts[LaptopHost]; ok {
		if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(NetnsDir+"/hosts", []byte(text), 0o644); err != nil {
			return err
		}
	}
	// No DNS server: every name the bed knows is in /etc/hosts, and any
	// other fails at once, as an address outside the VPC's reach would.
	return os.WriteFile(b.path("resolv.conf"), []byte("options timeout:1 attempts:1\n"), 0o644)
}

// hostsText is an /etc/hosts of names, by address.
func hostsText(names map[string]string) string {
	byIP := map[string][]string{}
	for n, ip := range names {
		byIP[ip] = append(byIP[ip], n)
	}
	ips := make([]string, 0, len(byIP))
	for ip := range byIP {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	var w strings.Builder
	w.WriteString("127.0.0.1 localhost\n")
	for _, ip := range ips {
		sort.Strings(byIP[ip])
		fmt.Fprintf(&w, "%s %s\n", ip, strings.Join(byIP[ip], " "))
	}
	return w.String()
}

// Down stops every process and removes the network.
func Down(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err == nil {
		var s State
		if json.Unmarshal(raw, &s) == nil {
			var wg sync.WaitGroup
			for _, p := range s.Procs {
				wg.Add(1)
				go func() { defer wg.Done(); Stop(p.PID, 10*time.Second) }()
			}
			wg.Wait()
		}
	}
	netDown()
	_ = os.RemoveAll(NetnsDir)
	return nil
}

// store is the bed's Secrets Manager for the External Secrets stand-in.
type store map[string]string

func (s store) SecretString(arn string) (string, error) {
	v, ok := s[arn]
	if !ok {
		return "", fmt.Errorf("secret %s does not exist (no test value)", arn)
	}
	return v, nil
}

// synced are the Secrets the plan's ExternalSecrets make, from the test
// values (see package eso for what stands in for the operator).
func (b *Bed) synced() ([]planjson.Object, error) {
	return eso.Sync(b.Objects, store(b.State.Secrets))
}
