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

// image is how the bed runs a container image's software: the same
// program, at the image's version where the registries have it, installed
// on this machine (there is no container runtime here). Entrypoint stands
// for the image's ENTRYPOINT (run when the container sets no command), Env
// for its ENV, and UID/GID for its USER.
type image struct {
	// What installs the program, and at which version, for the README's
	// table of substitutions.
	About      string
	Entrypoint []string
	Env        []string
	UID, GID   int
	Dirs       []Dir
	Passwd     []string
	// WorkDir is the image's WORKDIR; Binds are files of the image.
	WorkDir string
	Binds   []Bind
	// TrustStores are the image's files of trusted CAs (the public CAs
	// that sign AWS's and Cognito's endpoints); the bed's CA takes their
	// place.
	TrustStores []string
}

// images maps an image repository (without tag) to how it runs here.
func (b *Bed) images() map[string]image {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	airflow := image{
		About:  "apache-airflow 3.2.0 and the image's providers from PyPI, Python 3.12 (pyenv); the image's /entrypoint (which only waits for the database and execs its arguments) is not run",
		Env:    []string{"PATH=" + b.Tools.AirflowVenv + "/bin:" + path, "PYTHONDONTWRITEBYTECODE=1", "HOME=/home/airflow", "LANG=C.UTF-8"},
		UID:    50000,
		Passwd: []string{"airflow:x:50000:0:airflow:/home/airflow:/bin/bash"},
		// certifi's bundle, which requests (Authlib) and botocore use.
		TrustStores: []string{b.Tools.AirflowVenv + "/lib/python3.12/site-packages/certifi/cacert.pem"},
		// The image's AIRFLOW_HOME and home belong to its airflow user.
		// Its Python (pyenv's, under /root here) is readable by that user,
		// as the image's is: the pod's view of /root may be entered.
		Dirs: []Dir{{Path: "/opt/airflow", UID: 50000}, {Path: "/home/airflow", UID: 50000}, {Path: "/root", Mode: 0o711}},
	}
	java := image{About: "Airbyte's services are not run (their images need a container runtime); a probe runs their JDBC connection with pgjdbc 42.7.8 (the driver Airbyte 2.2.0 ships) on OpenJDK 17 from Debian, with the service's environment",
		Env: []string{"PATH=" + path, "LANG=C.UTF-8", "HOME=/tmp"}, UID: 1000}
	return map[string]image{
		"public.ecr.aws/docker/library/postgres": {About: "psql 15.18 from Debian (the image has psql 17)", Env: []string{"PATH=" + path, "LANG=C.UTF-8"}},
		"airbyte/server":                         java,
		"airbyte/worker":                         java,
		"airbyte/workload-launcher":              java,
		"airbyte/workload-api-server":            java,
		"airbyte/cron":                           java,
		"airbyte/bootloader":                     java,
		"temporalio/auto-setup": {About: "temporal-server and temporal-sql-tool v1.27.2 built from the Go module proxy, run by the bed's own rendition of the image's entrypoint and auto-setup steps (testbed/temporal/autosetup.sh), dockerize by testbed/cmd/dockerize",
			Env:        []string{"PATH=" + b.Tools.Temporal + "/bin:" + filepath.Dir(b.Tools.TBExec) + ":" + path, "TEMPORAL_HOME=/etc/temporal", "HOME=/etc/temporal"},
			UID:        1000,
			Passwd:     []string{"temporal:x:1000:1000:temporal:/etc/temporal:/bin/bash"},
			Dirs:       []Dir{{Path: "/etc/temporal", UID: 1000, GID: 1000}, {Path: "/etc/temporal/config", UID: 1000, GID: 1000}},
			Entrypoint: []string{"/bin/bash", "/etc/temporal/testbed-autosetup.sh"},
			WorkDir:    "/etc/temporal",
			Binds: []Bind{
				{Src: b.Tools.Temporal + "/docker/config_template.yaml", Dst: "/etc/temporal/config/config_template.yaml", RO: true},
				{Src: b.Tools.Temporal + "/schema", Dst: "/etc/temporal/schema", RO: true},
				{Src: filepath.Join(b.Tools.RepoDir, "testbed", "temporal", "autosetup.sh"), Dst: "/etc/temporal/testbed-autosetup.sh", RO: true},
			}},
		"apache/airflow":                   airflow,
		"apache/airflow:airflow-pgbouncer": {About: "PgBouncer 1.18 from Debian (the image has 1.23.1)", Env: []string{"PATH=" + path}},
	}
}

// imageOf finds how to run a container's image.
func (b *Bed) imageOf(ref string) (image, error) {
	imgs := b.images()
	repo, tag, _ := strings.Cut(ref, ":")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	if strings.HasPrefix(tag, "airflow-pgbouncer-") && !strings.Contains(tag, "exporter") {
		return imgs["apache/airflow:airflow-pgbouncer"], nil
	}
	if img, ok := imgs[repo]; ok && !strings.Contains(tag, "pgbouncer") {
		return img, nil
	}
	return image{}, fmt.Errorf("image %s: the test bed does not run it", ref)
}

// PodRun says how to run one container of a pod.
type PodRun struct {
	// Object is the workload (or Pod) of the plan; Pod overrides it (a
	// pod read from elsewhere, such as Airflow's pod template).
	Object *planjson.Object
	Pod    *kube.Pod
	// Container is the container to run; Name the process's name.
	Container, Name string
	// Host is the pod's network namespace (shared by its containers).
	Host string
	// Argv replaces the container's command line (a container whose image
	// the bed runs differently), and Env adds variables after the pod's.
	Argv []string
	Env  []string
	// Binds add files to the pod's (a stand-in's doing: see where set).
	Binds []Bind
	// HostsFile replaces the bed's /etc/hosts (see Spec).
	HostsFile string
}

// runnable resolves a container against the bed's ConfigMaps and Secrets.
func (b *Bed) runnable(r PodRun) (*kube.Runnable, error) {
	var pod kube.Pod
	if r.Pod != nil {
		pod = *r.Pod
	} else {
		p, err := kube.PodOf(*r.Object)
		if err != nil {
			return nil, err
		}
		pod = p
	}
	data, err := b.data()
	if err != nil {
		return nil, err
	}
	return pod.Resolve(r.Container, data, kube.Fields{PodName: r.Host, PodIP: b.State.Hosts[r.Host], NodeName: "testbed", HostIP: bridgeIP})
}

// spec turns a container into a process spec: its volumes as files under
// the pod's directory, bound at their mount paths; the image's environment
// before the pod's; the pod's user.
func (b *Bed) spec(r PodRun) (Spec, *kube.Runnable, error) {
	rn, err := b.runnable(r)
	if err != nil {
		return Spec{}, nil, err
	}
	img, err := b.imageOf(rn.Container.Image)
	if err != nil {
		return Spec{}, nil, err
	}
	if _, err := b.host(r.Host); err != nil {
		return Spec{}, nil, err
	}
	s := Spec{Name: r.Name, Host: r.Host, Env: append(append(append([]string{}, img.Env...), rn.Env...), r.Env...),
		Dir: rn.Container.WorkingDir, ReadOnlyRoot: rn.ReadOnlyRoot, Dirs: img.Dirs, Passwd: img.Passwd, HostsFile: r.HostsFile}
	// EKS's pod identity webhook (see irsa) comes before the pod's own
	// variables, as the webhook appends to the container's env and a
	// container that sets them itself wins.
	wenv, wbinds, err := b.irsa(rn.Pod, r.Host)
	if err != nil {
		return Spec{}, nil, err
	}
	s.Env = append(append(append(append([]string{}, img.Env...), wenv...), rn.Env...), r.Env...)
	s.Binds = append(append(append(img.Binds, s.Binds...), wbinds...), r.Binds...)
	if s.Dir == "" {
		s.Dir = img.WorkDir
	}
	for _, ts := range append([]string{"/etc/ssl/certs/ca-certificates.crt"}, img.TrustStores...) {
		s.Binds = append(s.Binds, Bind{Src: b.State.CA, Dst: ts, RO: true})
	}
	uid, gid := img.UID, img.GID
	if rn.RunAsUser != nil {
		uid = int(*rn.RunAsUser)
	}
	if rn.RunAsGroup != nil {
		gid = int(*rn.RunAsGroup)
	} else if rn.RunAsUser != nil {
		// As the container runtime does: the user's primary group from the
		// image's /etc/passwd (this machine's stands in), else root's.
		gid = primaryGroup(uid)
	}
	s.UID, s.GID = &uid, &gid
	switch {
	case len(r.Argv) > 0:
		s.Argv = r.Argv
	case len(rn.Command) > 0:
		s.Argv = append(append([]string{}, rn.Command...), rn.Args...)
	default:
		s.Argv = append(append([]string{}, img.Entrypoint...), rn.Args...)
	}
	if len(s.Argv) == 0 {
		return Spec{}, nil, fmt.Errorf("%s container %s: no command", rn.Pod.Source, r.Container)
	}
	vols := b.path("pods", r.Host, "volumes")
	for i, m := range rn.Mounts {
		switch {
		case m.EmptyDir:
			d := filepath.Join(vols, m.Volume)
			if err := os.MkdirAll(d, 0o777); err != nil {
				return Spec{}, nil, err
			}
			_ = os.Chmod(d, 0o777)
			s.Binds = append(s.Binds, Bind{Src: d, Dst: m.Path})
		case m.File:
			f := filepath.Join(vols, fmt.Sprintf("%s-%s-%d", r.Container, m.Volume, i))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return Spec{}, nil, err
			}
			if err := os.WriteFile(f, []byte(m.Files[""]), 0o644); err != nil {
				return Spec{}, nil, err
			}
			s.Binds = append(s.Binds, Bind{Src: f, Dst: m.Path, RO: true})
		default:
			d := filepath.Join(vols, fmt.Sprintf("%s-%s-%d", r.Container, m.Volume, i))
			_ = os.RemoveAll(d)
			for rel, v := range m.Files {
				p := filepath.Join(d, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return Spec{}, nil, err
				}
				if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
					return Spec{}, nil, err
				}
			}
			if err := os.MkdirAll(d, 0o755); err != nil {
				return Spec{}, nil, err
			}
			s.Binds = append(s.Binds, Bind{Src: d, Dst: m.Path, RO: true})
		}
	}
	return s, rn, nil
}

// StartPod starts a long-running container.
func (b *Bed) StartPod(r PodRun) (*Proc, error) {
	s, _, err := b.spec(r)
	if err != nil {
		return nil, err
	}
	return b.Start(s)
}

// RunPod runs a container to completion, as a Job's pod.
func (b *Bed) RunPod(r PodRun, timeout time.Duration) (string, error) {
	s, _, err := b.spec(r)
	if err != nil {
		return "", err
	}
	return b.Run(s, timeout)
}

// data is what the kubelet would read: the plan's ConfigMaps and Secrets
// (chart-rendered ones included) with the bed's substitutions, and the
// Secrets the ExternalSecrets sync.
func (b *Bed) data() (*kube.Data, error) {
	synced, err := b.synced()
	if err != nil {
		return nil, err
	}
	d := kube.NewData(append(append(append([]planjson.Object{}, b.Objects...), synced...), b.madeAtRuntime()...))
	ca, err := os.ReadFile(b.State.CA)
	if err != nil {
		return nil, err
	}
	for key, m := range d.ConfigMaps {
		// Trust anchor: the bed's CA in place of RDS's regional bundle.
		if _, ok := m["ca.pem"]; ok && strings.HasSuffix(key, "/rds-ca") {
			m["ca.pem"] = string(ca)
		}
	}
	for _, m := range d.Secrets {
		for k, v := range m {
			if v == planjson.Secret && (k == "root.crt" || k == "ca.crt" || k == "ca.pem") {
				// A CA bundle a chart renders from the values (PgBouncer's
				// pgbouncer.ssl.ca): the same substitution.
				m[k] = string(ca)
			}
		}
	}
	return d, nil
}

// primaryGroup is uid's group in /etc/passwd, or 0.
func primaryGroup(uid int) int {
	raw, _ := os.ReadFile("/etc/passwd")
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 3 && f[2] == fmt.Sprint(uid) {
			var g int
			if _, err := fmt.Sscan(f[3], &g); err == nil {
				return g
			}
		}
	}
	return 0
}

// madeAtRuntime are the Secrets an app makes for itself once it runs,
// which its pods read but the plan cannot show: Airbyte's bootloader makes
// airbyte-auth-secrets (AB_KUBERNETES_SECRET_NAME, with
// AB_AUTH_SECRET_CREATION_ENABLED) holding the keys its configuration
// names. The bootloader does not run here, so the bed makes it, with test
// values, for every key an Airbyte pod reads of it.
func (b *Bed) madeAtRuntime() []planjson.Object {
	cm, ok := planjson.Find(b.Objects, "ConfigMap", "airbyte", "airbyte-airbyte-env")
	if !ok {
		return nil
	}
	env := planjson.Strings(cm.Map["data"])
	name := env["AB_KUBERNETES_SECRET_NAME"]
	if name == "" || env["AB_AUTH_SECRET_CREATION_ENABLED"] != "true" {
		return nil
	}
	data := map[string]any{}
	for _, o := range b.Objects {
		pod, err := kube.PodOf(o)
		if err != nil || o.Namespace() != "airbyte" {
			continue
		}
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == name {
					data[e.ValueFrom.SecretKeyRef.Key] = b.derive("airbyte-auth", e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	return []planjson.Object{{Map: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": name, "namespace": "airbyte"}, "stringData": data}}}
}
