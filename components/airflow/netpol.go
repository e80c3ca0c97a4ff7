package airflow

import (
	"github.com/dataplatform/dataplatform/components/netpol"
)

// The ports Airflow's components listen on.
const (
	APIServerPort      = 8080
	TriggererLogsPort  = 8794
	StatsdPort         = 8125
	statsdNamespace    = "amazon-cloudwatch"
	componentLabel     = "component"
	taskPodsComponent  = "worker"
	migrationsJob      = "run-airflow-migrations"
	createUserJobLabel = "create-user-job"
)

// NetworkPolicies are Airflow's namespace's policies (netpol), read from
// the chart's Services and the components' clients: the metadata database
// through PgBouncer for the scheduler, the API server, the DAG processor,
// the triggerer and the jobs; the Execution API (the API server) for task
// pods, which get nothing else of the namespace (not PgBouncer: tasks reach
// the database only through the Execution API); the triggerer's log port
// for the API server; StatsD to the CloudWatch agent; PgBouncer alone to
// RDS. Task pods run DAG code, so they may reach the internet, and of the
// VPC only the interface endpoints.
func NetworkPolicies(n netpol.Network) []netpol.Policy {
	pods := netpol.Pods
	pgbouncer := netpol.Rule{Peers: []netpol.Peer{pods(componentLabel, "pgbouncer")}, Ports: netpol.TCP(PgBouncerPort)}
	statsd := netpol.Rule{Peers: []netpol.Peer{{Namespace: statsdNamespace}}, Ports: []netpol.Port{{Protocol: "UDP", Port: StatsdPort}}}
	// AWS's APIs (S3 for logs, Secrets Manager for connections and
	// variables, STS), Cognito, the API server, and git over HTTPS.
	aws := netpol.Rule{Peers: []netpol.Peer{netpol.Anywhere()}, Ports: netpol.TCP(443)}
	git := netpol.Rule{Peers: []netpol.Peer{netpol.Internet()}, Ports: netpol.TCP(22)}
	return append(netpol.Baseline(),
		netpol.Policy{Name: "api-server", Key: componentLabel, Values: []string{"api-server"},
			Description: "the UI, API and Execution API: from the load balancer and task pods; to PgBouncer, the triggerer's logs, StatsD and AWS",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{netpol.Blocks(n.LoadBalancers...), pods(componentLabel, taskPodsComponent, "api-server")}, Ports: netpol.TCP(APIServerPort)}},
			Egress:      []netpol.Rule{pgbouncer, {Peers: []netpol.Peer{pods(componentLabel, "api-server")}, Ports: netpol.TCP(APIServerPort)}, {Peers: []netpol.Peer{pods(componentLabel, "triggerer")}, Ports: netpol.TCP(TriggererLogsPort)}, statsd, aws}},
		netpol.Policy{Name: "scheduler", Key: componentLabel, Values: []string{"scheduler"},
			Description: "the scheduler: to PgBouncer, StatsD, and the API server (it starts task pods) and AWS",
			Egress:      []netpol.Rule{pgbouncer, statsd, aws}},
		netpol.Policy{Name: "dag-processor", Key: componentLabel, Values: []string{"dag-processor"},
			Description: "the DAG processor: to PgBouncer, StatsD, AWS and the DAGs' git remote",
			Egress:      []netpol.Rule{pgbouncer, statsd, aws, git}},
		netpol.Policy{Name: "triggerer", Key: componentLabel, Values: []string{"triggerer"},
			Description: "the triggerer: its log port from the API server; to PgBouncer, StatsD, AWS, the git remote and the internet (triggers poll external systems)",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{pods(componentLabel, "api-server")}, Ports: netpol.TCP(TriggererLogsPort)}},
			Egress:      []netpol.Rule{pgbouncer, statsd, aws, {Peers: []netpol.Peer{netpol.Internet()}}}},
		netpol.Policy{Name: "jobs", Key: componentLabel, Values: []string{migrationsJob, createUserJobLabel},
			Description: "the migration and first-user jobs: to PgBouncer",
			Egress:      []netpol.Rule{pgbouncer}},
		netpol.Policy{Name: "pgbouncer", Key: componentLabel, Values: []string{"pgbouncer"},
			Description: "PgBouncer: from Airflow's own components and jobs, not task pods; to RDS",
			Ingress:     []netpol.Rule{{Peers: []netpol.Peer{pods(componentLabel, "api-server", "scheduler", "dag-processor", "triggerer", migrationsJob, createUserJobLabel)}, Ports: netpol.TCP(PgBouncerPort)}},
			Egress:      []netpol.Rule{{Peers: []netpol.Peer{netpol.Blocks(n.Database...)}, Ports: netpol.TCP(5432)}}},
		netpol.Policy{Name: "task-pods", Key: componentLabel, Values: []string{taskPodsComponent},
			Description: "task pods (DAG code): to the Execution API, StatsD, the interface endpoints (STS) and the internet; nothing else of the VPC",
			Egress: []netpol.Rule{{Peers: []netpol.Peer{pods(componentLabel, "api-server")}, Ports: netpol.TCP(APIServerPort)}, statsd,
				{Peers: []netpol.Peer{netpol.Blocks(n.Endpoints...)}, Ports: netpol.TCP(443)},
				{Peers: []netpol.Peer{netpol.Internet()}}}},
	)
}
