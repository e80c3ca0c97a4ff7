package plan

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"

	"github.com/dataplatform/dataplatform/internal/mocks"
	networkingv1 "k8s.io/api/networking/v1"
)

// RuleNetworkPolicy is the check of the cluster's NetworkPolicies, with a
// real NetworkPolicy engine (the matcher of github.com/mattfenwick/cyclonus,
// which implements the Kubernetes semantics: a pod selected by a policy
// for a direction gets only what its policies allow; traffic needs both
// the sender's egress and the receiver's ingress). What each pod needs is
// read from the rendered objects: every Service it names (host:port) in
// its environment, its Secrets' values and its mounted files; the database
// for the database's clients; AWS for pods with an IAM role; the load
// balancer for Ingress backends; DNS for all. The check fails when a need
// is denied, when a pod may reach a port of an isolated namespace that
// nothing needs (a stranger from another namespace, a pod no policy names,
// a connector, a task), when a pod that is no database client may reach
// the databases, and when the VPC CNI would not enforce the policies.
const RuleNetworkPolicy = "k8s/network-policy"

// unusedReferences are Services a component is given but never calls, by
// "component pod, Service host", read from the apps' source.
var unusedReferences = map[string]string{
	"Deployment airbyte/airbyte-workload-launcher airbyte-temporal":                      "the launcher has no Temporal client (airbyte-platform airbyte-workload-launcher)",
	"Deployment airbyte/airbyte-workload-api-server airbyte-temporal":                    "the workload API signals workflows through the server (airbyte-platform airbyte-workload-api-server, signal/ApiSignalSender.kt)",
	"Deployment airflow/airflow-scheduler airflow-api-server":                            "the scheduler reaches the database directly and the API server not at all",
	"Deployment airflow/airflow-dag-processor airflow-api-server":                        "the DAG processor runs the Execution API in process (airflow dag_processing/manager.py)",
	"Deployment airflow/airflow-triggerer airflow-api-server":                            "the triggerer runs the Execution API in process (airflow jobs/triggerer_job_runner.py)",
	"Job airflow/airflow-run-airflow-migrations airflow-api-server":                      "`airflow db migrate` makes no HTTP call",
	"Job airflow/airflow-create-user airflow-api-server":                                 "`airflow users create` writes to the database directly",
	"Deployment airbyte/airbyte-manifest-server airbyte-airbyte-server-svc":              "the manifest server (the Python CDK's FastAPI app) calls no platform API",
	"Deployment airbyte/airbyte-cron airbyte-airbyte-manifest-server-svc":                "only the server has a manifest-server client (airbyte-platform airbyte-server, MANIFEST_SERVER_API_HOST)",
	"Deployment airbyte/airbyte-worker airbyte-airbyte-manifest-server-svc":              "only the server has a manifest-server client",
	"Deployment airbyte/airbyte-workload-api-server airbyte-airbyte-manifest-server-svc": "only the server has a manifest-server client",
	"Deployment airbyte/airbyte-workload-launcher airbyte-airbyte-manifest-server-svc":   "only the server has a manifest-server client",
}

// noAWS are pods whose service account has an IAM role but that call no
// AWS API: Airbyte's chart gives every component one service account.
var noAWS = map[string]string{
	"Deployment airbyte/airbyte-temporal":        "Temporal's server and schema tool use only PostgreSQL",
	"Deployment airbyte/airbyte-manifest-server": "the manifest server tests connector manifests against their APIs",
}

// runtimeNeeds are calls whose address a component builds at run time, so
// that no rendered object names it: "from pod" to "to pod", port, why.
var runtimeNeeds = []struct {
	from, to string
	port     int
	why      string
}{
	{"Deployment airflow/airflow-api-server", "Deployment airflow/airflow-triggerer", 8794, "the logs of deferred tasks, from the triggerer's log server (airflow utils/log/file_task_handler.py)"},
}

// Reach is one row of the network matrix: whether From may send to To on
// Port, and what needs it ("" when nothing does).
type Reach struct {
	// From is the sending workload ("Deployment ns/name"), or an address
	// outside the cluster ("the load balancers", "the internet").
	From string
	// To is the receiving workload, or an address outside the cluster.
	To string
	// Port is the destination port.
	Port int
	// Protocol is "TCP" or "UDP".
	Protocol string
	// Allowed is the verdict of the NetworkPolicy engine (cyclonus) over
	// both sides' policies.
	Allowed bool
	// Need names what in the rendered objects needs the flow, and where it
	// was read; "" when nothing does.
	Need string
	// Denied says which side denies it: "egress", "ingress" or both.
	Denied string `json:",omitempty"`
}

// netEndpoint is a pod, or an address outside the cluster.
type netEndpoint struct {
	name      string
	namespace string
	labels    map[string]string
	ip        string
	ports     []netPort
	obj       *ClusterObject
	synthetic bool
}

type netPort struct {
	port        int
	name, proto string
}

type netView struct {
	c        *clusterView
	policy   *matcher.Policy
	policies int
	pods     []*netEndpoint
	external map[string]*netEndpoint
	nsLabels map[string]map[string]string
	needs    map[string]string // from|to|port|proto -> why
	enforced map[string]bool   // namespaces with NetworkPolicies
	podIP    func(i int) string
}

// NetworkMatrix returns, for every pod of the plan (and a stranger of
// another namespace, an unlisted pod of each isolated namespace, the load
// balancers), which pods' ports and which outside addresses it may reach.
func (p *Plan) NetworkMatrix() []Reach {
	n := newNetView(p.clusterView())
	var out []Reach
	for _, from := range n.sources() {
		for _, to := range n.destinations() {
			for _, port := range to.ports {
				out = append(out, n.reach(from, to, port))
			}
		}
	}
	return out
}

func newNetView(c *clusterView) *netView {
	n := &netView{c: c, external: map[string]*netEndpoint{}, nsLabels: c.namespaces(), needs: map[string]string{}, enforced: map[string]bool{}}
	var policies []*networkingv1.NetworkPolicy
	for _, o := range c.objects {
		if o.Kind != "NetworkPolicy" {
			continue
		}
		var np networkingv1.NetworkPolicy
		b, _ := json.Marshal(o.Body)
		if json.Unmarshal(b, &np) != nil || len(np.Spec.PolicyTypes) == 0 {
			continue
		}
		np.Namespace = o.Namespace
		policies = append(policies, &np)
		n.enforced[o.Namespace] = true
	}
	n.policies = len(policies)
	n.policy = matcher.BuildNetworkPolicies(false, policies)
	n.addresses()
	n.addPods()
	n.addNeeds()
	return n
}

// addresses places the outside peers in the plan's subnets by tier.
func (n *netView) addresses() {
	tiers := map[string][]netip.Prefix{}
	for _, r := range n.c.p.Resources {
		if r.Type == "aws:ec2/subnet:Subnet" {
			if pr, err := netip.ParsePrefix(StringAt(r.Inputs, "cidrBlock")); err == nil {
				tier := StringAt(r.Inputs, "tags", "tier")
				tiers[tier] = append(tiers[tier], pr)
			}
		}
	}
	if len(tiers) == 0 {
		tiers = existingTiers(n.c.p)
	}
	at := func(tier string, offset int, fallback string) string {
		if ps := tiers[tier]; len(ps) > 0 {
			a := ps[0].Addr()
			for i := 0; i < offset; i++ {
				a = a.Next()
			}
			return a.String()
		}
		return fallback
	}
	lb := "ingress"
	for _, o := range n.c.objects {
		if o.Kind == "Ingress" && StringAt(o.Body, "metadata", "annotations", "alb.ingress.kubernetes.io/scheme") == "internet-facing" {
			lb = "public"
		}
	}
	if len(tiers[lb]) == 0 {
		lb = "private"
	}
	add := func(name, ip string, ports ...netPort) {
		n.external[name] = &netEndpoint{name: name, ip: ip, ports: ports, synthetic: true}
	}
	add("the load balancers", at(lb, 20, "10.255.1.20"))
	add("the databases", at("database", 10, "10.255.2.10"), netPort{5432, "", "TCP"})
	add("an interface endpoint", at("private", 4000, "10.255.3.10"), netPort{443, "", "TCP"})
	add("AWS and the internet", "52.216.8.10", netPort{443, "", "TCP"}, netPort{5432, "", "TCP"}, netPort{22, "", "TCP"})
	n.podIP = func(i int) string { return at("private", 100+i, fmt.Sprintf("10.255.0.%d", i+1)) }
}

// addPods lists the plan's pods, CoreDNS, a stranger of another namespace
// and an unlisted pod of each isolated namespace.
func (n *netView) addPods() {
	seen := map[string]bool{}
	for i := range n.c.objects {
		o := &n.c.objects[i]
		if o.Kind != "Pod" {
			continue
		}
		name := n.c.podName(*o)
		if seen[name] {
			continue
		}
		seen[name] = true
		spec, _ := PodSpec(o.Body, "Pod")
		e := &netEndpoint{name: name, namespace: o.Namespace, labels: o.Labels(), obj: o}
		for _, ctr := range containersOf(spec) {
			for _, p := range listOf(ctr["ports"]) {
				port, _ := p["containerPort"].(float64)
				proto := StringAt(p, "protocol")
				if proto == "" {
					proto = "TCP"
				}
				e.ports = append(e.ports, netPort{int(port), StringAt(p, "name"), proto})
			}
		}
		n.pods = append(n.pods, e)
	}
	n.pods = append(n.pods, &netEndpoint{name: "CoreDNS", namespace: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"},
		ports: []netPort{{53, "dns", "UDP"}, {53, "dns-tcp", "TCP"}}, synthetic: true},
		&netEndpoint{name: "a pod of another namespace", namespace: "default", labels: map[string]string{"run": "stranger"}, synthetic: true})
	namespaces := make([]string, 0, len(n.enforced))
	for ns := range n.enforced {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		n.pods = append(n.pods, &netEndpoint{name: "an unlisted pod of " + ns, namespace: ns, labels: map[string]string{"run": "unlisted"}, synthetic: true})
	}
	for i, p := range n.pods {
		p.ip = n.podIP(i)
	}
}

// podName names a pod in the network matrix: its workload, or for an
// object the provider names, the Pulumi resource.
func (c *clusterView) podName(o ClusterObject) string {
	switch {
	case o.Derived && strings.HasSuffix(o.From, "/"):
		return o.From + c.owners[o.Owner].Name + " (named by Pulumi)"
	case o.Derived:
		return o.From
	case o.Name == "":
		return o.Kind + " " + o.Namespace + "/" + c.owners[o.Owner].Name + " (named by Pulumi)"
	}
	return o.Key()
}

// existingTiers places an existing network's subnets (the fake AWS's
// account) by tier: the database subnets are those of the plan's subnet
// groups, the private ones those tagged for internal load balancers or
// Karpenter, the public ones those tagged for internet-facing ones.
func existingTiers(p *Plan) map[string][]netip.Prefix {
	out := map[string][]netip.Prefix{}
	db := map[string]bool{}
	for _, r := range p.Resources {
		if r.Type == "aws:rds/subnetGroup:SubnetGroup" {
			for _, id := range Strings(r.Inputs["subnetIds"]) {
				db[id] = true
			}
		}
	}
	ids := make([]string, 0, len(mocks.ExistingSubnets))
	for id := range mocks.ExistingSubnets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := mocks.ExistingSubnets[id]
		pr, err := netip.ParsePrefix(s.Cidr)
		if err != nil {
			continue
		}
		switch {
		case db[id]:
			out["database"] = append(out["database"], pr)
		case s.Tags["karpenter.sh/discovery"] != "":
			out["private"] = append(out["private"], pr)
		case s.Tags["kubernetes.io/role/internal-elb"] == "1" && s.VpcID == mocks.ExistingVpcID:
			out["ingress"] = append(out["ingress"], pr)
		case s.Tags["kubernetes.io/role/elb"] == "1":
			out["public"] = append(out["public"], pr)
		}
	}
	return out
}
