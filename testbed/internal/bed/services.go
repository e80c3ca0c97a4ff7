package bed

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/kube"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// serve points the DNS names of every Service that selects pod (its name,
// name.namespace, name.namespace.svc and the cluster domain) at the pod's
// address. The bed has no kube-proxy: a Service reaches one pod, on the
// pod's own port, so a Service whose port differs from its target port is
// refused rather than modelled wrong.
func (b *Bed) serve(pod kube.Pod, host string) error {
	ip, ok := b.State.Hosts[host]
	if !ok {
		return fmt.Errorf("no host %s", host)
	}
	ports := map[string]int{}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
			ports[fmt.Sprint(p.ContainerPort)] = p.ContainerPort
		}
	}
	for _, o := range b.Objects {
		if o.Kind() != "Service" || o.Namespace() != pod.Namespace {
			continue
		}
		var svc struct {
			Spec struct {
				Selector map[string]string `json:"selector"`
				Ports    []struct {
					Name       string `json:"name"`
					Port       int    `json:"port"`
					TargetPort any    `json:"targetPort"`
				} `json:"ports"`
			} `json:"spec"`
		}
		if planjson.Decode(o.Map, &svc) != nil || len(svc.Spec.Selector) == 0 || !selects(svc.Spec.Selector, pod.Labels) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			target := p.Port
			switch t := p.TargetPort.(type) {
			case float64:
				target = int(t)
			case string:
				if n, ok := ports[t]; ok {
					target = n
				}
			}
			if target != p.Port {
				return fmt.Errorf("%s: port %d goes to target port %d; the bed reaches pods on their own ports only", o.Key(), p.Port, target)
			}
		}
		n, ns := o.Name(), o.Namespace()
		if err := b.resolve(ip, n, n+"."+ns, n+"."+ns+".svc", n+"."+ns+".svc.cluster.local"); err != nil {
			return err
		}
	}
	return nil
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// irsa is what EKS's pod identity webhook adds to a pod whose service
// account carries eks.amazonaws.com/role-arn: the role, a projected web
// identity token, and the regional STS endpoint. The webhook is not in the
// plan (EKS runs it), so the bed does its work, from the plan's
// ServiceAccount objects.
func (b *Bed) irsa(pod kube.Pod, host string) (env []string, binds []Bind, err error) {
	sa, ok := planjson.Find(b.Objects, "ServiceAccount", pod.Namespace, pod.Spec.ServiceAccountName)
	if !ok {
		return nil, nil, nil
	}
	role := sa.Annotations()["eks.amazonaws.com/role-arn"]
	if role == "" {
		return nil, nil, nil
	}
	dir := b.path("pods", host, "irsa")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	// The token's claims are the service account's; moto does not verify
	// its signature (AWS checks it against the cluster's OIDC provider).
	token := jwtLike(map[string]any{
		"iss": "https://" + b.oidcIssuer(),
		"sub": "system:serviceaccount:" + pod.Namespace + ":" + pod.Spec.ServiceAccountName,
		"aud": []string{"sts.amazonaws.com"}, "exp": time.Now().Add(24 * time.Hour).Unix(),
	})
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o644); err != nil {
		return nil, nil, err
	}
	const mount = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	return []string{
		"AWS_STS_REGIONAL_ENDPOINTS=regional", "AWS_DEFAULT_REGION=" + b.region(), "AWS_REGION=" + b.region(),
		"AWS_ROLE_ARN=" + role, "AWS_WEB_IDENTITY_TOKEN_FILE=" + mount + "/token",
	}, []Bind{{Src: dir, Dst: mount, RO: true}}, nil
}

func (b *Bed) region() string {
	if r := b.Plan.Output("region"); r != "" {
		return r
	}
	return "us-east-1"
}

// waitTCP waits until something accepts connections at addr.
func waitTCP(addr string, d time.Duration) error {
	return waitFor(d, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// workload finds a rendered workload by kind and namespace/name.
func (b *Bed) workload(kind, namespace, name string) (planjson.Object, error) {
	o, ok := planjson.Find(b.Objects, kind, namespace, name)
	if !ok {
		return o, fmt.Errorf("the plan renders no %s %s/%s", kind, namespace, name)
	}
	return o, nil
}

func jwtLike(claims map[string]any) string {
	enc := func(v any) string {
		js, _ := jsonMarshal(v)
		return strings.TrimRight(b64url(js), "=")
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".dGVzdGJlZA"
}

// oidcIssuer is the cluster's OIDC issuer (host and path), from the plan's
// OIDC provider, which the IRSA roles trust.
func (b *Bed) oidcIssuer() string {
	arn := b.Plan.Output("oidcProviderArn")
	if i := strings.Index(arn, ":oidc-provider/"); i >= 0 {
		return arn[i+len(":oidc-provider/"):]
	}
	return "oidc.eks." + b.region() + ".amazonaws.com/id/TESTBED"
}
