package bed

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The test bed's network: a bridge on this machine and a network namespace
// per host (an RDS instance, the AWS endpoints, Cognito, the load balancer)
// and per pod, each with an address of its own, so that every program
// listens on the address and port the plan gives it, as on a VPC, and
// reaches the others by the names the plan uses (each namespace's
// /etc/hosts maps them).
// BridgeIP is this machine's address on the bed's bridge: the pods reach
// what runs outside the bed (the cluster bed's API server) there.
const BridgeIP = "10.88.0.1"

const (
	bridge    = "tb0"
	subnet    = "10.88"
	bridgeIP  = BridgeIP
	nsPrefix  = "tb-"
	netPrefix = 16
)

// rootNetns names this machine's own network namespace, where the bridge
// is: the tests run in the laptop's, and reach the machine's through it.
const rootNetns = nsPrefix + "root"

// run runs a command in this machine's own network namespace; `ip netns`
// commands themselves run as they are (in a namespace's private mount
// namespace, the handle they make would be lost).
func run(name string, args ...string) error {
	cmd := exec.Command("ip", append([]string{"netns", "exec", rootNetns, name}, args...)...)
	if name == "ip" && len(args) > 0 && args[0] == "netns" {
		cmd = exec.Command(name, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// netUp names this machine's namespace and makes the bridge.
func netUp() error {
	_ = exec.Command("ip", "netns", "del", rootNetns).Run()
	if out, err := exec.Command("ip", "netns", "attach", rootNetns, fmt.Sprint(os.Getpid())).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns attach %s: %v: %s", rootNetns, err, out)
	}
	_ = run("ip", "link", "del", bridge)
	if err := run("ip", "link", "add", bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := run("ip", "addr", "add", fmt.Sprintf("%s/%d", bridgeIP, netPrefix), "dev", bridge); err != nil {
		return err
	}
	return run("ip", "link", "set", bridge, "up")
}

// addNetns makes host i's namespace, attached to the bridge, and returns
// its address.
func addNetns(name string, i int) (string, error) {
	ns := nsPrefix + name
	ip := fmt.Sprintf("%s.%d.%d", subnet, 1+i/200, 10+i%200)
	hostSide, podSide := fmt.Sprintf("tbh%d", i), fmt.Sprintf("tbp%d", i)
	_ = run("ip", "netns", "del", ns)
	_ = run("ip", "link", "del", hostSide) // left by a bed that did not come down
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", hostSide, "type", "veth", "peer", "name", podSide},
		{"ip", "link", "set", hostSide, "master", bridge},
		{"ip", "link", "set", hostSide, "up"},
		{"ip", "link", "set", podSide, "netns", ns},
		{"ip", "netns", "exec", ns, "ip", "link", "set", podSide, "name", "eth0"},
		{"ip", "netns", "exec", ns, "ip", "addr", "add", fmt.Sprintf("%s/%d", ip, netPrefix), "dev", "eth0"},
		{"ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"},
		{"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
		{"ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", bridgeIP},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return "", err
		}
	}
	return ip, nil
}

// netDown removes every namespace of the bed and the bridge.
func netDown() {
	_ = run("ip", "link", "del", bridge)
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], nsPrefix) && f[0] != rootNetns {
			// What still runs there (a test's impostor server, say) ends
			// first: a deleted namespace does not end its processes.
			pids, _ := exec.Command("ip", "netns", "pids", f[0]).Output()
			for _, p := range strings.Fields(string(pids)) {
				var pid int
				if _, err := fmt.Sscan(p, &pid); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			_ = exec.Command("ip", "netns", "del", f[0]).Run()
		}
	}
	_ = exec.Command("ip", "netns", "del", rootNetns).Run()
}

// Bind is a file or directory of this machine mounted into a process's root.
type Bind struct {
	Src, Dst string
	RO       bool
}

// Spec is a process to run in the bed: in a host's namespace, in a root
// that is this machine's filesystem seen through an overlay (writes are
// the process's own and vanish with it), with Binds at the paths a pod's
// volume mounts or a server's files take, and nothing of our environment.
type Spec struct {
	Name string
	// Host names the network namespace (a host of the bed).
	Host string
	Argv []string
	Env  []string
	Dir  string
	UID  *int
	GID  *int
	// Binds are mounted in order.
	Binds []Bind
	// ReadOnlyRoot mounts the root read-only (the pod's
	// readOnlyRootFilesystem); binds stay as they are.
	ReadOnlyRoot bool
	// Dirs are directories the image has, with their owners (its home and
	// working directories), made in the root before the binds.
	Dirs []Dir
	// Passwd are the image's own users, as /etc/passwd lines.
	Passwd []string
	// HostsFile replaces the bed's /etc/hosts for this process (a test
	// that points a name elsewhere: a fresh instance, an impostor).
	HostsFile string
}

// Dir is a directory of an image, owned by uid:gid, with mode (default
// 0775).
type Dir struct {
	Path     string
	UID, GID int
	Mode     os.FileMode
}

// script is the shell that builds the process's root and starts tbexec
// in it. It runs as root inside `ip netns exec <ns> unshare -m`.
func (b *Bed) script(s Spec, dir string) (string, error) {
	spec := map[string]any{"argv": s.Argv, "env": s.Env, "dir": s.Dir, "uid": s.UID, "gid": s.GID, "groups": []int{}}
	if s.GID != nil {
		spec["groups"] = []int{*s.GID}
	}
	sb, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), sb, 0o644); err != nil {
		return "", err
	}
	q := strconv.Quote
	var w strings.Builder
	// The pod's own hostname, as the kubelet sets it (its UTS namespace).
	fmt.Fprintf(&w, "set -eu\nhostname %s\nD=%s\n", q(s.Host), q(dir))
	w.WriteString("mkdir -p $D/mnt\nmount -t tmpfs tbroot $D/mnt\nmkdir -p $D/mnt/upper $D/mnt/work $D/mnt/root\n")
	w.WriteString("mount -t overlay overlay -o lowerdir=/,upperdir=$D/mnt/upper,workdir=$D/mnt/work $D/mnt/root\nR=$D/mnt/root\n")
	w.WriteString("mount -t proc proc $R/proc\nmount --rbind /dev $R/dev\nmount --rbind /sys $R/sys\nmount -t tmpfs tmp $R/dev/shm\n")
	for _, line := range s.Passwd {
		fmt.Fprintf(&w, "echo %s >> $R/etc/passwd\n", q(line))
	}
	for _, d := range s.Dirs {
		mode := d.Mode
		if mode == 0 {
			mode = 0o775
		}
		fmt.Fprintf(&w, "T=\"$R$(chroot $R realpath -m %s)\"\nmkdir -p \"$T\"\nchown %d:%d \"$T\"\nchmod %o \"$T\"\n", q(d.Path), d.UID, d.GID, mode)
	}
	hosts := b.path("hosts")
	if s.HostsFile != "" {
		hosts = s.HostsFile
	}
	binds := append([]Bind{{Src: hosts, Dst: "/etc/hosts", RO: true}, {Src: b.path("resolv.conf"), Dst: "/etc/resolv.conf", RO: true}}, s.Binds...)
	for _, bd := range binds {
		st, err := os.Stat(bd.Src)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Name, err)
		}
		// The target is resolved inside the root, so that a symlink such as
		// /var/run -> /run points into it, not at this machine's.
		fmt.Fprintf(&w, "T=\"$R$(chroot $R realpath -m %s)\"\n", q(bd.Dst))
		if st.IsDir() {
			w.WriteString("mkdir -p \"$T\"\n")
		} else {
			w.WriteString("mkdir -p \"$(dirname \"$T\")\"\n[ -e \"$T\" ] || touch \"$T\"\n")
		}
		fmt.Fprintf(&w, "mount --bind %s \"$T\"\n", q(bd.Src))
		if bd.RO {
			w.WriteString("mount -o remount,bind,ro \"$T\"\n")
		}
	}
	if s.ReadOnlyRoot {
		w.WriteString("mount -o remount,bind,ro $R\n")
	}
	fmt.Fprintf(&w, "exec chroot $R %s %s\n", q(b.Tools.TBExec), q(filepath.Join(dir, "spec.json")))
	return w.String(), nil
}

// Proc is a process the bed started.
type Proc struct {
	Name string `json:"name"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	Log  string `json:"log"`
}

func (b *Bed) prepare(s Spec) (*exec.Cmd, string, error) {
	dir := b.path("procs", s.Name)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	sh, err := b.script(s, dir)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte(sh), 0o755); err != nil {
		return nil, "", err
	}
	cmd := exec.Command("ip", "netns", "exec", nsPrefix+s.Host, "unshare", "-m", "-u", "--propagation", "private", "sh", filepath.Join(dir, "run.sh"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, b.path("logs", s.Name+".log"), nil
}

// Start starts a long-running process and returns at once; its output goes
// to logs/<name>.log.
func (b *Bed) Start(s Spec) (*Proc, error) {
	cmd, logPath, err := b.prepare(s)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	p := &Proc{Name: s.Name, Host: s.Host, PID: cmd.Process.Pid, Log: logPath}
	go func() { _ = cmd.Wait() }()
	b.mu.Lock()
	b.State.Procs = append(b.State.Procs, p)
	b.mu.Unlock()
	return p, b.save()
}

// Run runs a process to completion (a Job's pod, a client) and returns its
// combined output; a non-zero exit is an error that carries the output.
func (b *Bed) Run(s Spec, timeout time.Duration) (string, error) {
	cmd, logPath, err := b.prepare(s)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = fmt.Errorf("timed out after %s", timeout)
		<-done
	}
	_ = os.WriteFile(logPath, []byte(out.String()), 0o644)
	if err != nil {
		return out.String(), fmt.Errorf("%s: %v\n%s", s.Name, err, tail(out.String(), 40))
	}
	return out.String(), nil
}

// Stop ends a process group: SIGTERM, then SIGKILL after grace.
func Stop(pid int, grace time.Duration) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if syscall.Kill(-pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StopHost ends every process the bed started in host.
func (b *Bed) StopHost(host string) {
	b.mu.Lock()
	var keep, stop []*Proc
	for _, p := range b.State.Procs {
		if p.Host == host {
			stop = append(stop, p)
		} else {
			keep = append(keep, p)
		}
	}
	b.State.Procs = keep
	b.mu.Unlock()
	for _, p := range stop {
		Stop(p.PID, 10*time.Second)
	}
	// And whatever else still runs in its namespace (a server's children
	// that left the group), until none is left.
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			out, _ := exec.Command("ip", "netns", "pids", nsPrefix+host).Output()
			pids := strings.Fields(string(out))
			if len(pids) == 0 {
				return
			}
			for _, p := range pids {
				var pid int
				if _, err := fmt.Sscan(p, &pid); err == nil {
					_ = syscall.Kill(pid, sig)
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
