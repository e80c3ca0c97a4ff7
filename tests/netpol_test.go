package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dataplatform/dataplatform/plan"
)

const (
	connectorPods = "ConfigMap airbyte/airbyte-airbyte-env JOB_KUBE_*"
	taskPods      = "ConfigMap airflow/airflow-config data.pod_template_file.yaml"
	stranger      = "a pod of another namespace"
	loadBalancers = "the load balancers"
	abServer      = "Deployment airbyte/airbyte-server"
	abTemporal    = "Deployment airbyte/airbyte-temporal"
	abWorkloadAPI = "Deployment airbyte/airbyte-workload-api-server"
	afAPIServer   = "Deployment airflow/airflow-api-server"
	afPgBouncer   = "Deployment airflow/airflow-pgbouncer"
)

// allowed returns the matrix's verdict on from sending to to on port.
func allowed(t *testing.T, m []plan.Reach, from, to string, port int) plan.Reach {
	t.Helper()
	for _, r := range m {
		if r.From == from && r.To == to && r.Port == port && r.Protocol == "TCP" {
			return r
		}
	}
	t.Fatalf("the matrix has no flow %s → %s:%d", from, to, port)
	return plan.Reach{}
}

// The NetworkPolicies, evaluated by cyclonus' engine over the plan's
// objects: each app component reaches exactly what it needs, and
// connectors, tasks and strangers reach none of the platform's internals.
func TestTheNetworkMatrixIsolatesTheApps(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		assert.Empty(t, violations(p.CheckObjects(), plan.RuleNetworkPolicy), stack)
		m := p.NetworkMatrix()
		for _, c := range []struct {
			from, to string
			port     int
			allow    bool
		}{
			// Connector pods: the orchestrator and sidecar beside the
			// connectors report to the server and the workload API, so the
			// connectors reach those two ports too (one pod, one policy);
			// Temporal, PgBouncer and the databases they do not.
			{connectorPods, abServer, 8001, true},
			{connectorPods, abWorkloadAPI, 8007, true},
			{connectorPods, abTemporal, 7233, false},
			{connectorPods, afPgBouncer, 6543, false},
			{connectorPods, afAPIServer, 8080, false},
			{connectorPods, "the databases", 5432, false},
			{connectorPods, "AWS and the internet", 5432, true},
			// Airflow tasks: the Execution API only.
			{taskPods, afAPIServer, 8080, true},
			{taskPods, afPgBouncer, 6543, false},
			{taskPods, abServer, 8001, false},
			{taskPods, abTemporal, 7233, false},
			{taskPods, abWorkloadAPI, 8007, false},
			{taskPods, "the databases", 5432, false},
			// Any other pod of the cluster: nothing.
			{stranger, abServer, 8001, false},
			{stranger, abTemporal, 7233, false},
			{stranger, afAPIServer, 8080, false},
			{stranger, afPgBouncer, 6543, false},
			{"an unlisted pod of airbyte", abTemporal, 7233, false},
			// The load balancers: the web ports, nothing else.
			{loadBalancers, abServer, 8001, true},
			{loadBalancers, afAPIServer, 8080, true},
			{loadBalancers, abTemporal, 7233, false},
			// What the components need.
			{"Deployment airbyte/airbyte-worker", abTemporal, 7233, true},
			{afAPIServer, afPgBouncer, 6543, true},
			{afPgBouncer, "the databases", 5432, true},
			{abServer, "the databases", 5432, true},
		} {
			r := allowed(t, m, c.from, c.to, c.port)
			assert.Equal(t, c.allow, r.Allowed, "%s: %s → %s:%d (%s)", stack, c.from, c.to, c.port, r.Denied)
		}
	}
}

// networkPolicy returns the inputs of the program's NetworkPolicy name in
// namespace ns.
func networkPolicy(t *testing.T, p *plan.Plan, resource string) map[string]any {
	t.Helper()
	return findByName(t, p, "kubernetes:networking.k8s.io/v1:NetworkPolicy", resource).Inputs
}

// Each way the policies could be wrong is refused, with what it opens or
// breaks.
func TestTheNetworkPolicyCheckRefusesWhatItMust(t *testing.T) {
	cases := []struct {
		name  string
		broke func(t *testing.T, p *plan.Plan)
		want  string
	}{
		{"no default deny in airbyte", func(t *testing.T, p *plan.Plan) {
			for i, r := range p.Resources {
				if r.Name == "airbyte-default-deny" {
					p.Resources[i].Type = "kubernetes:core/v1:ConfigMap" // gone
				}
			}
			// Without it, the pods no other policy selects for ingress are
			// open to the whole cluster.
		}, stranger + " may reach Deployment airbyte/airbyte-cron on TCP 8085, which nothing of the plan needs"},
		{"connectors admitted to Temporal", func(t *testing.T, p *plan.Plan) {
			np := networkPolicy(t, p, "airbyte-temporal")
			from := np["spec"].(map[string]any)["ingress"].([]any)[0].(map[string]any)["from"].([]any)[0].(map[string]any)
			expr := from["podSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)
			expr["values"] = append(expr["values"].([]any), "job-pod")
			eg := networkPolicy(t, p, "airbyte-job-pods")["spec"].(map[string]any)
			eg["egress"] = append(eg["egress"].([]any), map[string]any{"to": []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"airbyte": "temporal"}}}}})
		}, connectorPods + " may reach " + abTemporal + " on TCP 7233, which nothing of the plan needs"},
		{"the worker cut off from Temporal", func(t *testing.T, p *plan.Plan) {
			np := networkPolicy(t, p, "airbyte-temporal")
			from := np["spec"].(map[string]any)["ingress"].([]any)[0].(map[string]any)["from"].([]any)[0].(map[string]any)
			from["podSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)["values"] = []any{"temporal", "server", "cron"}
		}, "Deployment airbyte/airbyte-worker needs " + abTemporal + " on TCP 7233 (container airbyte-worker-container's TEMPORAL_HOST names airbyte-temporal:7233), but the NetworkPolicies deny it (ingress of " + abTemporal + ")"},
		// Admitting the load balancers by the private subnets (where they
		// were before the ingress subnets) admits every pod there.
		{"load balancers admitted by the pods' subnets", func(t *testing.T, p *plan.Plan) {
			var private string
			for _, r := range p.Find("aws:ec2/subnet:Subnet") {
				if at(r.Inputs, "tags", "tier") == "private" && private == "" {
					private = str(r.Inputs, "cidrBlock")
				}
			}
			from := networkPolicy(t, p, "airbyte-server")["spec"].(map[string]any)["ingress"].([]any)[0].(map[string]any)
			from["from"] = append(from["from"].([]any), map[string]any{"ipBlock": map[string]any{"cidr": private}})
		}, stranger + " may reach " + abServer + " on TCP 8001, which nothing of the plan needs"},
		{"the VPC CNI not enforcing", func(t *testing.T, p *plan.Plan) {
			for _, r := range p.Find("aws:eks/addon:Addon") {
				delete(r.Inputs, "configurationValues")
			}
		}, "the VPC CNI's network policy agent is off"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := breakObjects(t, "prod", func(p *plan.Plan) { c.broke(t, p) })
			got := strings.Join(violations(vs, plan.RuleNetworkPolicy), "\n")
			assert.Contains(t, got, c.want, fmt.Sprintf("got:\n%s", got))
		})
	}
}
