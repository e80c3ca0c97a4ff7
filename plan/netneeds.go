package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	v1 "k8s.io/api/core/v1"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// serviceRef finds host:port in a value: a Service's name, maybe with its
// namespace and the cluster's domain.
var serviceRef = regexp.MustCompile(`([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.([a-z0-9-]+))?(\.svc(\.cluster\.local)?)?:(\d{2,5})\b`)

type netService struct {
	namespace, name string
	selector        map[string]string
	ports           []map[string]any
}

func (n *netView) need(from, to *netEndpoint, port int, proto, why string) {
	k := from.name + "|" + to.name + "|" + strconv.Itoa(port) + "|" + proto
	if _, ok := n.needs[k]; !ok {
		n.needs[k] = why
	}
}

func (n *netView) needOf(from, to *netEndpoint, port netPort) string {
	return n.needs[from.name+"|"+to.name+"|"+strconv.Itoa(port.port)+"|"+port.proto]
}

// addNeeds reads what each pod needs from the rendered objects.
func (n *netView) addNeeds() {
	services := n.services()
	dns := n.byName("CoreDNS")
	for _, p := range n.pods {
		if p.synthetic {
			continue
		}
		n.need(p, dns, 53, "UDP", "DNS")
		n.need(p, dns, 53, "TCP", "DNS")
		for value, where := range n.referencedValues(p) {
			for _, m := range serviceRef.FindAllStringSubmatch(value, -1) {
				ns := p.namespace
				if m[4] != "" {
					ns = m[4]
				}
				svc, ok := services[ns+"/"+m[1]]
				if !ok {
					continue
				}
				if _, unused := unusedReferences[p.name+" "+m[1]]; unused {
					continue
				}
				port, _ := strconv.Atoi(m[7])
				n.needService(p, svc, port, fmt.Sprintf("%s names %s", where, m[0]))
			}
		}
		if sa := StringAt(p.obj.Body, "spec", "serviceAccountName"); sa != "" {
			if acct, ok := n.c.serviceAccounts()[p.namespace+"/"+sa]; ok && StringAt(acct.Body, "metadata", "annotations", RoleARNAnnotation) != "" && noAWS[p.name] == "" {
				n.need(p, n.external["an interface endpoint"], 443, "TCP", "its IAM role (STS)")
				n.need(p, n.external["AWS and the internet"], 443, "TCP", "its IAM role (AWS's APIs)")
			}
		}
		if RunsUserCode(*p.obj) {
			for _, port := range []int{443, 5432, 22} {
				n.need(p, n.external["AWS and the internet"], port, "TCP", "user or connector code, which calls external systems")
			}
		}
	}
	n.c.eachDatabaseClient(func(o ClusterObject, ctr container, kinds, _ []string) {
		if p := n.byObject(o); p != nil {
			n.need(p, n.external["the databases"], 5432, "TCP", "container "+ctr.name+" is a database client ("+strings.Join(kinds, ", ")+")")
		}
	})
	n.ingressNeeds(services)
	for _, r := range runtimeNeeds {
		if from, to := n.byName(r.from), n.byName(r.to); from != nil && to != nil {
			n.need(from, to, r.port, "TCP", r.why)
		}
	}
}

// referencedValues are the values a pod reads: its containers'
// environment (Secrets' values included, and the templates of the
// ExternalSecrets that make them) and the files it mounts from ConfigMaps
// and Secrets, with where each comes from.
func (n *netView) referencedValues(p *netEndpoint) map[string]string {
	out := map[string]string{}
	for _, e := range n.c.env(*p.obj) {
		out[e.value] = "container " + e.container + "'s " + e.name
	}
	spec, _ := PodSpec(p.obj.Body, "Pod")
	for _, ctr := range containersOf(spec) {
		for _, e := range listOf(ctr["env"]) {
			if name := StringAt(e, "valueFrom", "secretKeyRef", "name"); name != "" {
				if v, ok := n.c.objectData(p.namespace, "Secret", name, StringAt(e, "valueFrom", "secretKeyRef", "key")); ok {
					out[v] = fmt.Sprintf("container %s's %s (Secret %s)", ctr["name"], e["name"], name)
				}
			}
		}
	}
	for _, v := range listOf(spec["volumes"]) {
		kind, name := "ConfigMap", StringAt(v, "configMap", "name")
		if name == "" {
			kind, name = "Secret", StringAt(v, "secret", "secretName")
		}
		for _, x := range n.c.objects {
			if x.Namespace != p.namespace || x.Name != name || x.Kind != kind {
				continue
			}
			data, _ := x.Body["data"].(map[string]any)
			for k, val := range data {
				if s, ok := val.(string); ok && k != "pod_template_file.yaml" {
					out[s] = fmt.Sprintf("mounted %s %s's %s", kind, name, k)
				}
			}
		}
	}
	return out
}

// services are the plan's Services with selectors, by namespace/name.
func (n *netView) services() map[string]netService {
	out := map[string]netService{}
	for _, o := range n.c.objects {
		if o.Kind != "Service" {
			continue
		}
		sel := map[string]string{}
		if m, ok := At(o.Body, "spec", "selector").(map[string]any); ok {
			for k, v := range m {
				sel[k], _ = v.(string)
			}
		}
		if len(sel) > 0 {
			out[o.Namespace+"/"+o.Name] = netService{o.Namespace, o.Name, sel, listOf(At(o.Body, "spec", "ports"))}
		}
	}
	return out
}

// needService makes p need every pod of svc on the target of its port.
func (n *netView) needService(p *netEndpoint, svc netService, port int, why string) {
	for _, sp := range svc.ports {
		if n, _ := sp["port"].(float64); int(n) != port {
			continue
		}
		proto := StringAt(sp, "protocol")
		if proto == "" {
			proto = "TCP"
		}
		for _, to := range n.selected(svc) {
			if target, ok := to.targetPort(sp["targetPort"], port); ok {
				n.need(p, to, target, proto, why)
			}
		}
	}
}

func (n *netView) selected(svc netService) []*netEndpoint {
	var out []*netEndpoint
	for _, to := range n.pods {
		if to.synthetic || to.namespace != svc.namespace {
			continue
		}
		match := true
		for k, v := range svc.selector {
			match = match && to.labels[k] == v
		}
		if match {
			out = append(out, to)
		}
	}
	return out
}

// targetPort resolves a Service's targetPort (a number, a name, or none:
// the port) on pod e.
func (e *netEndpoint) targetPort(target any, port int) (int, bool) {
	switch t := target.(type) {
	case float64:
		return int(t), true
	case string:
		if v, err := strconv.Atoi(t); err == nil {
			return v, true
		}
		for _, p := range e.ports {
			if p.name == t {
				return p.port, true
			}
		}
		return 0, false
	}
	return port, true
}

// ingressNeeds make the load balancers need every Ingress backend.
func (n *netView) ingressNeeds(services map[string]netService) {
	lb := n.external["the load balancers"]
	for _, o := range n.c.objects {
		if o.Kind != "Ingress" {
			continue
		}
		for _, rule := range listOf(At(o.Body, "spec", "rules")) {
			for _, path := range listOf(At(rule, "http", "paths")) {
				svc, ok := services[o.Namespace+"/"+StringAt(path, "backend", "service", "name")]
				if !ok {
					continue
				}
				want := At(path, "backend", "service", "port")
				for _, sp := range svc.ports {
					num, _ := sp["port"].(float64)
					if At(want.(map[string]any), "number") != nil && At(want.(map[string]any), "number") != num || StringAt(want.(map[string]any), "name") != "" && StringAt(want.(map[string]any), "name") != StringAt(sp, "name") {
						continue
					}
					for _, to := range n.selected(svc) {
						if target, ok := to.targetPort(sp["targetPort"], int(num)); ok {
							n.need(lb, to, target, "TCP", "Ingress "+o.Namespace+"/"+o.Name+" sends users there")
						}
					}
				}
			}
		}
	}
}

func (n *netView) byName(name string) *netEndpoint {
	for _, p := range n.pods {
		if p.name == name {
			return p
		}
	}
	return nil
}

func (n *netView) byObject(o ClusterObject) *netEndpoint {
	return n.byName(n.c.podName(o))
}

// sources are every pod and the load balancers; destinations every pod
// with ports and the outside addresses.
func (n *netView) sources() []*netEndpoint {
	return append(append([]*netEndpoint{}, n.pods...), n.external["the load balancers"])
}

func (n *netView) destinations() []*netEndpoint {
	var out []*netEndpoint
	for _, p := range n.pods {
		if len(p.ports) > 0 {
			out = append(out, p)
		}
	}
	for _, k := range []string{"the databases", "an interface endpoint", "AWS and the internet"} {
		out = append(out, n.external[k])
	}
	return out
}

func (n *netView) peer(e *netEndpoint) *matcher.TrafficPeer {
	if e.namespace == "" {
		return &matcher.TrafficPeer{IP: e.ip}
	}
	return &matcher.TrafficPeer{IP: e.ip, Internal: &matcher.InternalPeer{PodLabels: e.labels, NamespaceLabels: n.nsLabels[e.namespace], Namespace: e.namespace}}
}

// reach evaluates one flow with the NetworkPolicy engine.
func (n *netView) reach(from, to *netEndpoint, port netPort) Reach {
	r := n.policy.IsTrafficAllowed(&matcher.Traffic{Source: n.peer(from), Destination: n.peer(to),
		ResolvedPort: port.port, ResolvedPortName: port.name, Protocol: v1.Protocol(port.proto)})
	out := Reach{From: from.name, To: to.name, Port: port.port, Protocol: port.proto, Allowed: r.IsAllowed(), Need: n.needOf(from, to, port)}
	if !r.IsAllowed() {
		var sides []string
		if r.Egress != nil && !r.Egress.IsAllowed() {
			sides = append(sides, "egress of "+from.name)
		}
		if r.Ingress != nil && !r.Ingress.IsAllowed() {
			sides = append(sides, "ingress of "+to.name)
		}
		out.Denied = strings.Join(sides, " and ")
	}
	return out
}

func checkNetworkPolicies(c *clusterView) []mocks.Violation {
	n := newNetView(c)
	var out []mocks.Violation
	owner := ClusterObject{}
	for _, o := range c.objects {
		if o.Kind == "NetworkPolicy" {
			owner = o
			break
		}
	}
	report := func(e *netEndpoint, format string, args ...any) {
		o := owner
		if e.obj != nil {
			o = *e.obj
		}
		out = append(out, c.violation(o, RuleNetworkPolicy, format, args...))
	}
	out = append(out, n.checkEnforcement()...)
	for _, from := range n.sources() {
		for _, to := range n.destinations() {
			for _, port := range to.ports {
				r := n.reach(from, to, port)
				switch {
				case r.Need != "" && !r.Allowed:
					report(from, "%s needs %s on %s %d (%s), but the NetworkPolicies deny it (%s): add the path to the app's table (components/netpol)", r.From, r.To, r.Protocol, r.Port, r.Need, r.Denied)
				case r.Need == "" && r.Allowed && n.enforced[to.namespace] && to.namespace != from.namespace+"-" && !(from == to):
					report(from, "%s may reach %s on %s %d, which nothing of the plan needs: narrow the policies", r.From, r.To, r.Protocol, r.Port)
				case r.Need == "" && r.Allowed && to.name == "the databases" && n.enforced[from.namespace]:
					report(from, "%s may reach the databases on 5432 but is no database client", r.From)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Message < out[j].Message })
	return out
}

// checkEnforcement reports namespaces whose pods run user code or hold
// database credentials without NetworkPolicies, and policies the VPC CNI
// would not enforce.
func (n *netView) checkEnforcement() []mocks.Violation {
	var out []mocks.Violation
	seen := map[string]bool{}
	for _, p := range n.pods {
		if p.obj == nil || n.enforced[p.namespace] || seen[p.namespace] {
			continue
		}
		if RunsUserCode(*p.obj) || n.needOf(p, n.external["the databases"], netPort{5432, "", "TCP"}) != "" {
			seen[p.namespace] = true
			out = append(out, n.c.violation(*p.obj, RuleNetworkPolicy, "namespace %s runs user code or database clients and has no NetworkPolicies: every pod of the cluster reaches its pods", p.namespace))
		}
	}
	if n.policies == 0 {
		return out
	}
	for _, r := range n.c.p.Resources {
		if r.Type != "aws:eks/addon:Addon" || StringAt(r.Inputs, "addonName") != "vpc-cni" {
			continue
		}
		var config map[string]any
		switch v := At(r.Inputs, "configurationValues").(type) {
		case map[string]any:
			config = v
		case string:
			_ = json.Unmarshal([]byte(v), &config)
		}
		if on, _ := config["enableNetworkPolicy"].(string); on != "true" {
			out = append(out, mocks.Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: "configurationValues", Rule: RuleNetworkPolicy,
				Message: fmt.Sprintf("the VPC CNI's network policy agent is off (configurationValues %v lack enableNetworkPolicy \"true\"): the cluster accepts the %d NetworkPolicies and enforces none", config, n.policies)})
		}
	}
	return out
}

// WriteNetworkMatrix prints, for each source, what it may reach (and why
// it needs it), and what it needs but may not.
func WriteNetworkMatrix(w io.Writer, rows []Reach) error {
	var b strings.Builder
	last := ""
	for _, r := range rows {
		if !r.Allowed && r.Need == "" {
			continue
		}
		if r.From != last {
			fmt.Fprintf(&b, "\n%s\n", r.From)
			last = r.From
		}
		mark, why := "→", r.Need
		if !r.Allowed {
			mark, why = "✗", "DENIED ("+r.Denied+"), needed for "+r.Need
		}
		if why == "" {
			why = "allowed, not needed"
		}
		fmt.Fprintf(&b, "  %s %s %s/%d: %s\n", mark, r.To, r.Protocol, r.Port, why)
	}
	b.WriteString("\nEvery flow not listed is denied. Check k8s/network-policy: plan/netpol.go.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
