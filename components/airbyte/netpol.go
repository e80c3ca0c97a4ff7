package airbyte

import (
	"github.com/dataplatform/dataplatform/components/netpol"
)

// The ports Airbyte's components listen on (the pods' ports: policies name
// the target port, not the Service's, which for the workload API differ:
// 8001 to 8007).
const (
	ServerPort      = 8001
	WorkloadAPIPort = 8007
	TemporalPort    = 7233
	ManifestPort    = 8080
)

// podLabel is the label of every Airbyte pod that names its component
// (the chart's selector labels; the workload launcher's job pods carry
// airbyte=job-pod).
const podLabel = "airbyte"

// JobPods is the label value of the pods the workload launcher starts for
// syncs, checks, discovers and specs: they run connectors.
const JobPods = "job-pod"

// NetworkPolicies are Airbyte's namespace's policies (netpol). A component
// whose environment names its own Service may reach its other replicas.
// Read from
// the chart's Services and the components' clients (server: Temporal and
// the manifest server; worker and cron: Temporal, the server and the
// workload API; the launcher and job pods: the server and the workload
// API; the workload API: the server). Job pods run connector code beside
// the orchestrator that reports to the server and the workload API, so
// connector code reaches those two ports too (one pod, one policy): not
// Temporal, the database, the manifest server or any other pod.
func NetworkPolicies(n netpol.Network) []netpol.Policy {
	pods := netpol.Pods
	to := func(component string, port int) netpol.Rule {
		return netpol.Rule{Peers: []netpol.Peer{pods(podLabel, component)}, Ports: netpol.TCP(port)}
	}
	server, wapi, temporal, manifest := to("server", ServerPort), to("workload-api-server", WorkloadAPIPort), to("temporal", TemporalPort), to("manifest-server", ManifestPort)
	// The database, AWS's APIs (S3 and Secrets Manager at public
	// addresses, STS at the interface endpoint), the API server, and the
	// connector registry.
	controlPlane := []netpol.Rule{
		{Peers: []netpol.Peer{netpol.Blocks(n.Database...)}, Ports: netpol.TCP(5432)},
		{Peers: []netpol.Peer{netpol.Anywhere()}, Ports: netpol.TCP(443)},
	}
	egress := func(rules ...netpol.Rule) []netpol.Rule {
		return append(append([]netpol.Rule{}, controlPlane...), rules...)
	}
	return append(netpol.Baseline(),
		netpol.Policy{Name: "server", Key: podLabel, Values: []string{"server"},
			Description: "the API and web app: from the load balancer and Airbyte's components and job pods; to Temporal, the manifest server, the database and AWS",
			Ingress: []netpol.Rule{{Peers: []netpol.Peer{netpol.Blocks(n.LoadBalancers...),
				pods(podLabel, "server", "worker", "cron", "workload-launcher", "workload-api-server", JobPods)}, Ports: netpol.TCP(ServerPort)}},
			Egress: egress(server, temporal, manifest)},
		netpol.Policy{Name: "workload-api-server", Key: podLabel, Values: []string{"workload-api-server"},
			Description: "the workload API: from the worker, cron, the launcher and job pods; to the server and the database",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{pods(podLabel, "workload-api-server", "worker", "cron", "workload-launcher", JobPods)}, Ports: netpol.TCP(WorkloadAPIPort)}},
			Egress:      egress(server, wapi)},
		netpol.Policy{Name: "temporal", Key: podLabel, Values: []string{"temporal"},
			Description: "Temporal: from the server, the worker and cron; to its databases",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{pods(podLabel, "temporal", "server", "worker", "cron")}, Ports: netpol.TCP(TemporalPort)}},
			Egress:      []netpol.Rule{temporal, {Peers: []netpol.Peer{netpol.Blocks(n.Database...)}, Ports: netpol.TCP(5432)}}},
		netpol.Policy{Name: "manifest-server", Key: podLabel, Values: []string{"manifest-server"},
			Description: "the connector builder's manifest server: from the server; to the internet (the APIs a manifest under test calls)",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{pods(podLabel, "server", "manifest-server")}, Ports: netpol.TCP(ManifestPort)}},
			Egress:      []netpol.Rule{manifest, {Peers: []netpol.Peer{netpol.Internet()}}}},
		netpol.Policy{Name: "worker-cron", Key: podLabel, Values: []string{"worker", "cron"},
			Description: "the worker and cron: to Temporal, the server, the workload API, the database and AWS",
			Egress:      egress(temporal, server, wapi)},
		netpol.Policy{Name: "workload-launcher", Key: podLabel, Values: []string{"workload-launcher"},
			Description: "the launcher: to the server, the workload API, the API server (it starts job pods), the database and AWS",
			Egress:      egress(server, wapi)},
		netpol.Policy{Name: "bootloader", Key: podLabel, Values: []string{"bootloader"},
			Description: "the bootloader: to the database (migrations), the API server and the connector registry",
			Egress:      egress()},
		netpol.Policy{Name: "job-pods", Key: podLabel, Values: []string{JobPods},
			Description: "connector pods: to the server and the workload API (their orchestrator and sidecar report there), the interface endpoints (STS), and the internet (the sources and destinations); nothing else of the VPC",
			Egress: []netpol.Rule{server, wapi,
				{Peers: []netpol.Peer{netpol.Blocks(n.Endpoints...)}, Ports: netpol.TCP(443)},
				{Peers: []netpol.Peer{netpol.Internet()}}}},
	)
}
