package bed

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/kube"
)

// Airflow's namespace and release, as the chart renders them.
const (
	airflowNS = "airflow"
	// dagID is the test bed's DAG: one task that reads a connection and a
	// variable (from Secrets Manager) and writes them to its log (in S3).
	dagID = "testbed_reads_a_connection"
)

// testDAG is the DAG the bed puts where git-sync would check the DAG
// repository out (the repository is the user's; git-sync cannot reach it
// here).
const testDAG = `from airflow.sdk import Connection, Variable, dag, task
import pendulum


@dag(dag_id="` + dagID + `", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def testbed():
    @task
    def read_connection():
        conn = Connection.get("testbed_source")
        print(f"TESTBED connection testbed_source host={conn.host} login={conn.login}")
        print("TESTBED variable testbed_greeting=" + Variable.get("testbed_greeting"))

    read_connection()


testbed()
`

// airflowPod starts (or runs) one container of an Airflow workload, in a
// host named after the workload, and points its Services at it.
func (b *Bed) airflowPod(kind, name, container string, run bool, extraEnv ...string) (string, error) {
	return b.airflowPodWith(kind, name, container, run, nil, extraEnv...)
}

func (b *Bed) airflowPodWith(kind, name, container string, run bool, binds []Bind, extraEnv ...string) (string, error) {
	o, err := b.workload(kind, airflowNS, name)
	if err != nil {
		return "", err
	}
	pod, err := kube.PodOf(o)
	if err != nil {
		return "", err
	}
	if err := b.putDAG(name); err != nil {
		return "", err
	}
	r := PodRun{Object: &o, Container: container, Name: name + "-" + container, Host: name, Env: extraEnv, Binds: binds}
	if run {
		return b.RunPod(r, 15*time.Minute)
	}
	if _, err := b.StartPod(r); err != nil {
		return "", err
	}
	if _, err := b.host(name); err != nil {
		return "", err
	}
	return "", b.serve(pod, name)
}

// putDAG writes the test DAG into the pod's dags volume, at the path the
// chart's git-sync checks the repository out to (repo/<subPath>): the
// stand-in for git-sync.
func (b *Bed) putDAG(host string) error {
	d := b.path("pods", host, "volumes", "dags", "repo", "dags")
	if err := os.MkdirAll(d, 0o777); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, dagID+".py"), []byte(testDAG), 0o644)
}

// startAirflow brings Airflow up as the chart's release does: PgBouncer,
// the migration job (a post-install hook), the first admin on dev, then
// the API server, scheduler, DAG processor and triggerer, each after its
// wait-for-airflow-migrations init container.
func (b *Bed) startAirflow() error {
	if _, err := b.airflowPod("Deployment", "airflow-pgbouncer", "pgbouncer", false); err != nil {
		return err
	}
	if err := waitTCP(b.State.Hosts["airflow-pgbouncer"]+":6543", 30*time.Second); err != nil {
		return fmt.Errorf("PgBouncer: %w", err)
	}
	if _, err := b.airflowPod("Job", "airflow-run-airflow-migrations", "run-airflow-migrations", true); err != nil {
		return err
	}
	if _, ok := b.objectOK("Job", airflowNS, "airflow-create-user"); ok {
		if _, err := b.airflowPod("Job", "airflow-create-user", "create-user", true); err != nil {
			return err
		}
		// The first admin: the name the job's arguments give, the password
		// its environment reads.
		rn, err := b.Container("Job", airflowNS, "airflow-create-user", "create-user")
		if err != nil {
			return err
		}
		argv := append(append([]string{}, rn.Command...), rn.Args...)
		for i, a := range argv {
			if a == "-u" && i+1 < len(argv) {
				b.State.Airflow.AdminUsername = argv[i+1]
			}
			if a == "-p" && i+1 < len(argv) {
				b.State.Airflow.AdminPassword = argv[i+1]
			}
		}
	}
	b.State.Airflow.DagID = dagID
	return b.startAirflowComponents()
}

// startAirflowComponents starts Airflow's long-running components, each
// after its wait-for-airflow-migrations init container.
func (b *Bed) startAirflowComponents() error {
	// The scheduler runs tasks with the LocalExecutor here: the
	// KubernetesExecutor needs a cluster (the cluster test bed runs it).
	executor := "AIRFLOW__CORE__EXECUTOR=LocalExecutor"
	for _, c := range []struct{ name, container string }{
		{"airflow-api-server", "api-server"}, {"airflow-scheduler", "scheduler"},
		{"airflow-dag-processor", "dag-processor"}, {"airflow-triggerer", "triggerer"},
	} {
		if _, err := b.airflowPod("Deployment", c.name, "wait-for-airflow-migrations", true); err != nil {
			return err
		}
		var extra []string
		var binds []Bind
		if c.name == "airflow-scheduler" {
			// The LocalExecutor runs the tasks in the scheduler's pod,
			// which then needs the DAGs the task pods' git-sync would fetch.
			extra = []string{executor}
			binds = []Bind{{Src: b.path("pods", c.name, "volumes", "dags"), Dst: "/opt/airflow/dags", RO: true}}
		}
		if _, err := b.airflowPodWith("Deployment", c.name, c.container, false, binds, extra...); err != nil {
			return err
		}
	}
	return waitTCP(b.State.Hosts["airflow-api-server"]+":8080", 120*time.Second)
}

func (b *Bed) objectOK(kind, ns, name string) (any, bool) {
	o, err := b.workload(kind, ns, name)
	return o, err == nil
}

// SchedulerInCluster restarts Airflow's scheduler as the chart runs it on
// EKS: with the executor the plan renders (the KubernetesExecutor, without
// the bed's LocalExecutor substitution) and the in-cluster credentials the
// kubelet gives its pod: its service account's token and the cluster's CA
// at /var/run/secrets/kubernetes.io/serviceaccount (stand-in for the
// service account admission's token volume, with a token the cluster
// bed's TokenRequest issued), and KUBERNETES_SERVICE_HOST and _PORT set to
// the cluster bed's API server (an address substitution: on EKS, the
// kubernetes Service's IP).
func (b *Bed) SchedulerInCluster(apiHost string, apiPort int, token string, ca []byte) error {
	b.StopHost("airflow-scheduler")
	dir := b.path("pods", "airflow-scheduler", "serviceaccount")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range map[string][]byte{"token": []byte(token), "ca.crt": ca, "namespace": []byte(airflowNS)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	binds := []Bind{{Src: dir, Dst: "/var/run/secrets/kubernetes.io/serviceaccount", RO: true}}
	_, err := b.airflowPodWith("Deployment", "airflow-scheduler", "scheduler", false, binds,
		"KUBERNETES_SERVICE_HOST="+apiHost, fmt.Sprintf("KUBERNETES_SERVICE_PORT=%d", apiPort))
	return err
}

// DagID is the bed's DAG.
const DagID = dagID
