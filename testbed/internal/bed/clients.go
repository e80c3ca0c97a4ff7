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
// of the workload would run), and returns the output.
func (b *Bed) RunIn(kind, namespace, name, container, host string, argv []string, extraEnv ...string) (string, error) {
	o, err := b.workload(kind, namespace, name)
	if err != nil {
		return "", err
	}
	return b.RunPod(PodRun{Object: &o, Container: container, Name: host + "-" + fmt.Sprint(time.Now().UnixNano()), Host: host, Argv: argv, Env: extraEnv}, 3*time.Minute)
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
