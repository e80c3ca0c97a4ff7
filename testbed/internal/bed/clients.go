package bed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/kube"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// LaptopHost is where a user's tools and browser run: the tests run in its
// network namespace, whose /etc/hosts (/etc/netns/tb-laptop/hosts, which
// `ip netns exec` mounts) knows every name of the bed.
const LaptopHost = "laptop"

// NetnsDir is where `ip netns exec` finds a namespace's own /etc files.
const NetnsDir = "/etc/netns/" + nsPrefix + LaptopHost

func (b *Bed) startLaptop() error {
	if _, err := b.host(LaptopHost); err != nil {
		return err
	}
	return b.writeHosts()
}

// Container resolves a container of a workload of the plan, as the
// kubelet would hand it over (env, mounts, command), for a test to read.
func (b *Bed) Container(kind, namespace, name, container string) (*kube.Runnable, error) {
	o, err := b.workload(kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return b.runnable(PodRun{Object: &o, Container: container, Host: name})
}

// RunIn runs argv in a new pod made from a workload's container (its image,
// environment, volumes and user), in a host of its own (as a second pod
// of the workload would run), and returns the output. An option that is
// WithHosts(file) resolves names through file; any other is a NAME=value
// added to the environment.
func (b *Bed) RunIn(kind, namespace, name, container, host string, argv []string, opts ...string) (string, error) {
	o, err := b.workload(kind, namespace, name)
	if err != nil {
		return "", err
	}
	r := PodRun{Object: &o, Container: container, Name: host + "-" + fmt.Sprint(time.Now().UnixNano()), Host: host, Argv: argv}
	for _, opt := range opts {
		if f, ok := strings.CutPrefix(opt, hostsOption); ok {
			r.HostsFile = f
		} else {
			r.Env = append(r.Env, opt)
		}
	}
	return b.RunPod(r, 3*time.Minute)
}

const hostsOption = "\x00hosts="

// WithHosts is an option of RunIn: resolve names through file.
func WithHosts(file string) string { return hostsOption + file }

// WorkloadObject is a workload of the plan, for a PodRun.
func (b *Bed) WorkloadObject(kind, namespace, name string) (planjson.Object, error) {
	return b.workload(kind, namespace, name)
}

// PgBouncerThrough starts a PgBouncer from the plan's (its rendered
// configuration) in host, with names resolved through hostsFile, and asks
// it for Airflow's database as Airflow does (its connection string's login
// and database, in plain text inside the cluster); it returns psql's
// output and error.
func (b *Bed) PgBouncerThrough(hostsFile, host string) (string, error) {
	o, err := b.workload("Deployment", airflowNS, "airflow-pgbouncer")
	if err != nil {
		return "", err
	}
	b.StopHost(host)
	if _, err := b.StartPod(PodRun{Object: &o, Container: "pgbouncer", Name: host, Host: host, HostsFile: hostsFile}); err != nil {
		return "", err
	}
	ip := b.State.Hosts[host]
	if err := waitTCP(ip+":6543", 30*time.Second); err != nil {
		return "", err
	}
	defer b.StopHost(host)
	conn, err := b.Secret(airflowNS, "airflow-metadata", "connection")
	if err != nil {
		return "", err
	}
	// The same URL, at this PgBouncer's address.
	i, j := strings.Index(conn, "@"), strings.Index(conn, ":6543")
	url := conn[:i+1] + ip + conn[j:]
	out, err := b.Client(LaptopHost, []string{"PGCONNECT_TIMEOUT=10"}, b.Tools.Psql, "-X", "-At", "-c", "SELECT 1", url)
	logs, _ := os.ReadFile(b.path("logs", host+".log"))
	return out + "\n" + string(logs), err
}

// Client runs a command of this machine's tools (psql, python, java) in a
// host, with env and nothing else.
func (b *Bed) Client(host string, env []string, argv ...string) (string, error) {
	return b.ClientWithHosts(host, "", env, argv...)
}

// ClientWithHosts is Client with names resolved through hostsFile.
func (b *Bed) ClientWithHosts(host, hostsFile string, env []string, argv ...string) (string, error) {
	if _, err := b.host(host); err != nil {
		return "", err
	}
	path := "PATH=/usr/local/bin:/usr/bin:/bin"
	return b.Run(Spec{Name: host + "-client-" + fmt.Sprint(time.Now().UnixNano()), Host: host, Argv: argv, HostsFile: hostsFile,
		Env: append([]string{path, "HOME=/tmp", "LANG=C.UTF-8"}, env...)}, 3*time.Minute)
}

// Secret returns the test value of the Secret a pod of namespace reads
// (namespace/name, key), as the External Secrets stand-in synced it.
func (b *Bed) Secret(namespace, name, key string) (string, error) {
	d, err := b.data()
	if err != nil {
		return "", err
	}
	m, ok := d.Secrets[namespace+"/"+name]
	if !ok {
		return "", fmt.Errorf("no Secret %s/%s", namespace, name)
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("Secret %s/%s has no key %s", namespace, name, key)
	}
	return v, nil
}

// Procs are the processes the bed runs, with the host each runs in.
func (b *Bed) ProcsIn(prefix string) []*Proc {
	var out []*Proc
	for _, p := range b.State.Procs {
		if strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// Environ returns the environment of a running process and of every
// process under it (a pod's container and what it started).
func Environ(pid int) ([]string, error) {
	var out []string
	pids := append([]int{pid}, descendants(pid)...)
	for _, p := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p))
		if err != nil {
			continue
		}
		out = append(out, strings.Split(string(raw), "\x00")...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("process %d is gone", pid)
	}
	return out, nil
}

func descendants(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		var p int
		if _, err := fmt.Sscan(e.Name(), &p); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(raw)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			var state string
			var ppid int
			if _, err := fmt.Sscan(s[i+1:], &state, &ppid); err == nil {
				parent[p] = ppid
			}
		}
	}
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// Objects of a kind in a namespace.
func (b *Bed) ObjectsOf(kind, namespace string) []planjson.Object {
	var out []planjson.Object
	for _, o := range b.Objects {
		if o.Kind() == kind && (namespace == "" || o.Namespace() == namespace) {
			out = append(out, o)
		}
	}
	return out
}

// StartTemporal starts Airbyte's Temporal from its rendered Deployment (the
// auto-setup image's steps: schema setup as Airbyte's login, then the
// server), and points its Service at it.
func (b *Bed) StartTemporal() error {
	o, err := b.workload("Deployment", "airbyte", "airbyte-temporal")
	if err != nil {
		return err
	}
	pod, err := kube.PodOf(o)
	if err != nil {
		return err
	}
	b.StopHost("airbyte-temporal")
	if _, err := b.StartPod(PodRun{Object: &o, Container: "airbyte-temporal", Name: "airbyte-temporal", Host: "airbyte-temporal"}); err != nil {
		return err
	}
	return b.serve(pod, "airbyte-temporal")
}

// TemporalSchemaThrough runs the auto-setup image's schema steps only,
// with names resolved through hostsFile, and returns the output.
func (b *Bed) TemporalSchemaThrough(hostsFile, host string) (string, error) {
	o, err := b.workload("Deployment", "airbyte", "airbyte-temporal")
	if err != nil {
		return "", err
	}
	return b.RunPod(PodRun{Object: &o, Container: "airbyte-temporal", Name: host, Host: host, HostsFile: hostsFile,
		Argv: []string{"/bin/bash", "/etc/temporal/testbed-autosetup.sh", "schema-only"}}, 3*time.Minute)
}

// Log is the last lines of a process's log (its name: "<pod>-<container>").
func (b *Bed) Log(name string, lines int) string {
	body, _ := os.ReadFile(b.path("logs", name+".log"))
	return tail(string(body), lines)
}
