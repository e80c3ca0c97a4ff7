// Package cluster is the cluster test bed: a Kubernetes control plane of
// the cluster's version (etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, run for real on loopback), KWOK simulating the nodes the
// plan provides, and what `pulumi up` and `pulumi destroy` do to it
// (install.go, destroy.go), driven from a stack's plan.
//
// What stands in for what needs AWS is named where it is done:
//   - admission webhooks are not called (the API server runs without the
//     two webhook admission plugins): the servers behind them (the load
//     balancer controller's, External Secrets', Karpenter's) run as KWOK
//     pods, which serve nothing;
//   - External Secrets: the Secrets it would sync are made from the plan's
//     ExternalSecret templates with test values (Sync);
//   - the EBS CSI driver: a claim of an EBS storage class is bound to a
//     volume made for it (bindVolumes);
//   - the load balancer controller: an Ingress gets a load balancer's name
//     in its status, which pulumi-kubernetes waits for (ingressStatus);
//   - Karpenter: each NodePool's nodes are made as Karpenter would launch
//     them (nodes.go), and a drain launches the replacement first.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dataplatform/dataplatform/testbed/internal/pki"
)

// Tools are the binaries the control plane runs (tools.json).
type Tools struct {
	Etcd          string `json:"etcd"`
	KubernetesBin string `json:"kubernetesBin"`
	Kwok          string `json:"kwok"`
	// KwokStages holds KWOK's own pod stages (kustomize/stage/pod/fast).
	KwokStages string `json:"kwokStages"`
}

// Cluster is a running control plane.
type Cluster struct {
	Dir string
	// Addr is the address the API server listens on.
	Addr string
	// Kubeconfig is the admin's (system:masters).
	Kubeconfig string
	// Server is the API server's URL; CA its serving certificate's CA.
	Server string
	CA     []byte
	Config *rest.Config
	// WaitCap caps every wait of a release (substituted for the plan's
	// timeouts, up to 30 minutes: KWOK starts a pod in a second, so a wait
	// that lasts minutes here never ends).
	WaitCap time.Duration
	Client  kubernetes.Interface
	Dyn     dynamic.Interface
	procs   []*exec.Cmd
	nodeSeq int
	kinds   []Node   // the plan's kinds of node (AddNodes)
	zones   []string // and its zones
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// Ports of the control plane on 127.0.0.1, apart from the apps bed's.
const (
	etcdPort     = 23791
	etcdPeerPort = 23801
	// APIServerPort is the API server's port.
	APIServerPort = 16443
	// ServiceCIDR is EKS's default service range (172.20.0.0/16 when the
	// VPC is in 10.0.0.0/8), as the plan's cluster has no other.
	ServiceCIDR = "172.20.0.0/16"
)

// Start starts etcd, the API server, the controller manager, the scheduler
// and KWOK, each logging to dir/logs/<name>.log, and waits for the API
// server to be ready. issuer is the service account token issuer the
// cluster has (its OIDC provider's URL); addr is the address the API
// server listens on (127.0.0.1, or the apps bed's bridge address, so that
// the bed's pods reach it).
func Start(ctx context.Context, dir string, tools Tools, issuer, addr string) (*Cluster, error) {
	c := &Cluster{Dir: dir, Addr: addr, WaitCap: 4 * time.Minute}
	if reachable(addr, APIServerPort) || reachable("127.0.0.1", etcdPort) {
		return nil, fmt.Errorf("ports %d and %d must be free: another cluster bed runs (testbed/down stops it)", APIServerPort, etcdPort)
	}
	for _, d := range []string{"pki", "logs", "etcd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	if err := c.certificates(); err != nil {
		return nil, err
	}
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	bin := func(name string) string { return filepath.Join(tools.KubernetesBin, name) }
	if err := c.start("etcd", tools.Etcd, "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeerPort),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", etcdPeerPort),
		"--unsafe-no-fsync", "--quota-backend-bytes", "4294967296"); err != nil {
		return nil, err
	}
	if err := c.start("kube-apiserver", bin("kube-apiserver"),
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--bind-address", addr, "--advertise-address", addr,
		"--secure-port", fmt.Sprint(APIServerPort),
		"--tls-cert-file", p("apiserver.pem"), "--tls-private-key-file", p("apiserver.key"),
		"--client-ca-file", p("ca.pem"),
		"--service-account-issuer", issuer, "--api-audiences", "https://kubernetes.default.svc,sts.amazonaws.com",
		"--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
		"--service-cluster-ip-range", ServiceCIDR,
		"--authorization-mode", "Node,RBAC", "--allow-privileged",
		// Stand-in: the webhooks' servers run as KWOK pods and serve
		// nothing, so the API server does not call them.
		"--disable-admission-plugins", "MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
		"--enable-admission-plugins", "NodeRestriction,PodSecurity"); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.connect(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.start("kube-controller-manager", bin("kube-controller-manager"),
		"--kubeconfig", c.Kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--use-service-account-credentials", "--service-account-private-key-file", p("sa.key"),
		"--root-ca-file", p("ca.pem"), "--cluster-signing-cert-file", p("ca.pem"), "--cluster-signing-key-file", p("ca.key"),
		"--controllers", "*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
		// KWOK's lease renewals are late under load here; a node is not
		// marked unready for that (the bed tests no node failure).
		"--node-monitor-grace-period", "5m",
		"--concurrent-deployment-syncs", "10", "--kube-api-qps", "200", "--kube-api-burst", "400"); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.start("kube-scheduler", bin("kube-scheduler"),
		"--kubeconfig", c.Kubeconfig, "--leader-elect=false", "--secure-port=0"); err != nil {
		c.Stop()
		return nil, err
	}
	stages, err := writeStages(tools.KwokStages, filepath.Join(dir, "kwok-stages.yaml"))
	if err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.start("kwok", tools.Kwok, "--kubeconfig", c.Kubeconfig, "--config", stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector", NodeAnnotation+"=fake",
		"--cidr", "10.96.0.0/12", "--node-lease-duration-seconds", "40", "--server-address", "127.0.0.1:10247"); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// start starts a process of the control plane.
func (c *Cluster) start(name, path string, args ...string) error {
	log, err := os.Create(filepath.Join(c.Dir, "logs", name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	go func() { _ = cmd.Wait(); log.Close() }()
	return nil
}

// Stop stops every process, the last started first.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if p.Process == nil {
			continue
		}
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for p.ProcessState == nil {
				time.Sleep(50 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
	}
	c.procs = nil
}

// Log is the tail of a process's log, for a failure's message.
func (c *Cluster) Log(name string, lines int) string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "logs", name+".log"))
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// certificates makes the cluster's CA, the API server's serving
// certificate, the admin's client certificate, the service account
// signing key, and the admin kubeconfig.
func (c *Cluster) certificates() error {
	dir := filepath.Join(c.Dir, "pki")
	ca, err := pki.NewCA("kubernetes")
	if err != nil {
		return err
	}
	key, _ := ca.KeyPEM()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.key"), key, 0o600); err != nil {
		return err
	}
	serving, err := ca.Issue("kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost", "127.0.0.1", "172.20.0.1", c.Addr)
	if err != nil {
		return err
	}
	if _, _, err := serving.Write(dir, "apiserver"); err != nil {
		return err
	}
	admin, err := ca.IssueClient("testbed-admin", "system:masters")
	if err != nil {
		return err
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, _ := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return err
	}
	c.Server = fmt.Sprintf("https://%s:%d", c.Addr, APIServerPort)
	c.CA = ca.PEM
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	return os.WriteFile(c.Kubeconfig, []byte(kubeconfig(c.Server, ca.PEM, "admin", fmt.Sprintf(
		"    client-certificate-data: %s\n    client-key-data: %s\n", b64(admin.Cert), b64(admin.Key)))), 0o600)
}

// TokenKubeconfig is a kubeconfig for a bearer token (a service account's).
func (c *Cluster) TokenKubeconfig(token string) string {
	return kubeconfig(c.Server, c.CA, "token", "    token: "+token+"\n")
}

func kubeconfig(server string, ca []byte, user, creds string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
%scontexts:
- name: testbed
  context: {cluster: testbed, user: %s}
current-context: testbed
`, server, b64(ca), user, creds, user)
}

// connect waits for the API server's readiness and makes the clients.
func (c *Cluster) connect(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	c.Config = cfg
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if c.Dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API server is not ready after 90 s (%v):\n%s", err, c.Log("kube-apiserver", 20))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// reachable says whether something listens on a loopback port.
func reachable(addr string, port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", addr, port), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
