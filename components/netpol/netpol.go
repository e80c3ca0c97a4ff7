// Package netpol writes an app namespace's NetworkPolicies from a table:
// every pod denied by default, then each component allowed exactly the
// peers and ports its clients and its own calls need. The VPC CNI enforces
// them (cluster.AddonConfiguration). The plan checks the result with a
// real NetworkPolicy engine (plan check k8s/network-policy).
//
// To open a new path, add a Rule to the app's table (components/airbyte
// and components/airflow, netpol.go): on the receiving side an Ingress
// rule naming the client, and on the calling side an Egress rule naming
// the server. Both are needed, since every pod is denied both ways.
package netpol

import (
	"sort"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network is where the platform's peers outside the cluster are, by
// address: the subnets of the load balancers, of the databases and of the
// interface endpoints.
type Network struct {
	// LoadBalancers are the blocks the apps' load balancers send from
	// (network.CIDRs.LoadBalancers): the apps' web ports admit them.
	LoadBalancers []string
	// Database are the database subnets' blocks (PostgreSQL, 5432).
	Database []string
	// Endpoints are the blocks of the VPC's interface endpoints (STS, ECR,
	// CloudWatch Logs: the private subnets), and of the cluster's API
	// server, on HTTPS.
	Endpoints []string
}

// Private are the private address ranges (RFC 1918): what Internet
// excludes.
var Private = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// Port is a protocol ("TCP" unless set) and port.
type Port struct {
	// Protocol is "TCP" (the default when empty) or "UDP".
	Protocol string
	// Port is the pod's port (not a Service's).
	Port int
}

// TCP returns TCP ports.
func TCP(ports ...int) []Port {
	out := make([]Port, 0, len(ports))
	for _, p := range ports {
		out = append(out, Port{Protocol: "TCP", Port: p})
	}
	return out
}

// Peer is one side of a rule: pods of the namespace whose label Key is
// one of Values (Key "" for every pod), pods of another Namespace, or
// address blocks.
type Peer struct {
	// Key and Values select the namespace's pods by one label.
	Key    string
	Values []string
	// Namespace selects pods of another namespace (with PodLabels).
	Namespace string
	// PodLabels select pods in Namespace.
	PodLabels map[string]string
	// CIDRs are address blocks, less Except.
	CIDRs  []string
	Except []string
}

// Pods are the namespace's pods whose label key is one of values.
func Pods(key string, values ...string) Peer { return Peer{Key: key, Values: values} }

// Blocks are address blocks.
func Blocks(cidrs ...string) Peer { return Peer{CIDRs: cidrs} }

// Internet is every address outside the private ranges.
func Internet() Peer { return Peer{CIDRs: []string{"0.0.0.0/0"}, Except: Private} }

// Anywhere is every address, the VPC's included (AWS's public endpoints,
// which S3's gateway endpoint and Secrets Manager are reached at, and the
// interface endpoints and API server inside the VPC).
func Anywhere() Peer { return Peer{CIDRs: []string{"0.0.0.0/0"}} }

// Rule allows traffic with Peers (any peer when empty) on Ports (any port
// when empty).
type Rule struct {
	// Peers are who may send (ingress) or receive (egress).
	Peers []Peer
	// Ports are the ports they may use.
	Ports []Port
}

// Policy is one NetworkPolicy: the pods it selects (by Key in Values;
// every pod when Key is ""), and the traffic they may receive and send.
// A pod that any policy selects for a direction gets only what its
// policies allow in that direction.
type Policy struct {
	// Name is the NetworkPolicy's name.
	Name string
	// Key and Values select the pods by one label.
	Key    string
	Values []string
	// Ingress and Egress are the rules of each direction; nil leaves the
	// direction to other policies, empty denies it.
	Ingress []Rule
	Egress  []Rule
	// Description goes on the object, for kubectl readers.
	Description string
}

// Baseline are the policies of every app namespace: deny everything both
// ways, then allow DNS (CoreDNS in kube-system).
func Baseline() []Policy {
	return []Policy{
		{Name: "default-deny", Description: "every pod of the namespace: no traffic but what another policy allows",
			Ingress: []Rule{}, Egress: []Rule{}},
		{Name: "dns", Description: "every pod may ask CoreDNS",
			Egress: []Rule{{Peers: []Peer{{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}}, Ports: []Port{{"UDP", 53}, {"TCP", 53}}}}},
	}
}

// Isolated makes the namespace namespace (Pulumi name name) and, unless
// policies is nil, its NetworkPolicies (New), which wait for it. It
// returns the namespace and the policies, for what must wait for both.
func Isolated(ctx *pulumi.Context, name, namespace string, policies []Policy, opts ...pulumi.ResourceOption) (*corev1.Namespace, []pulumi.Resource, error) {
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(namespace)},
	}, opts...)
	if err != nil || policies == nil {
		return ns, nil, err
	}
	made, err := New(ctx, name, ns.Metadata.Name().Elem(), policies, append(opts, pulumi.DependsOn([]pulumi.Resource{ns}))...)
	return ns, made, err
}

// New creates the policies in namespace. opts carry the Kubernetes
// provider (and the namespace as a dependency).
func New(ctx *pulumi.Context, name string, namespace pulumi.StringInput, policies []Policy, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, p := range policies {
		types := []string{}
		spec := &networkingv1.NetworkPolicySpecArgs{PodSelector: selector(p.Key, p.Values)}
		if p.Ingress != nil {
			types = append(types, "Ingress")
			var rules networkingv1.NetworkPolicyIngressRuleArray
			for _, r := range p.Ingress {
				rules = append(rules, &networkingv1.NetworkPolicyIngressRuleArgs{From: peers(r.Peers), Ports: ports(r.Ports)})
			}
			spec.Ingress = rules
		}
		if p.Egress != nil {
			types = append(types, "Egress")
			var rules networkingv1.NetworkPolicyEgressRuleArray
			for _, r := range p.Egress {
				rules = append(rules, &networkingv1.NetworkPolicyEgressRuleArgs{To: peers(r.Peers), Ports: ports(r.Ports)})
			}
			spec.Egress = rules
		}
		spec.PolicyTypes = pulumi.ToStringArray(types)
		np, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+p.Name, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.Name), Namespace: namespace,
				Annotations: pulumi.StringMap{"dataplatform.io/description": pulumi.String(p.Description)}},
			Spec: spec,
		}, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, np)
	}
	return out, nil
}

func selector(key string, values []string) *metav1.LabelSelectorArgs {
	if key == "" {
		return &metav1.LabelSelectorArgs{}
	}
	if len(values) == 1 {
		return &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{key: pulumi.String(values[0])}}
	}
	return &metav1.LabelSelectorArgs{MatchExpressions: metav1.LabelSelectorRequirementArray{
		&metav1.LabelSelectorRequirementArgs{Key: pulumi.String(key), Operator: pulumi.String("In"), Values: pulumi.ToStringArray(values)},
	}}
}

func peers(ps []Peer) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, p := range ps {
		switch {
		case len(p.CIDRs) > 0:
			for _, c := range p.CIDRs {
				out = append(out, &networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c), Except: pulumi.ToStringArray(within(c, p.Except))}})
			}
		case p.Namespace != "":
			labels := pulumi.StringMap{}
			keys := make([]string, 0, len(p.PodLabels))
			for k := range p.PodLabels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				labels[k] = pulumi.String(p.PodLabels[k])
			}
			out = append(out, &networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(p.Namespace)}},
				PodSelector:       &metav1.LabelSelectorArgs{MatchLabels: labels},
			})
		default:
			out = append(out, &networkingv1.NetworkPolicyPeerArgs{PodSelector: selector(p.Key, p.Values)})
		}
	}
	return out
}

// within keeps the exceptions that lie inside cidr (the API refuses the
// others).
func within(cidr string, except []string) []string {
	if cidr == "0.0.0.0/0" {
		return except
	}
	return nil
}

func ports(ps []Port) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		out = append(out, &networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(proto), Port: pulumi.Int(p.Port)})
	}
	return out
}
