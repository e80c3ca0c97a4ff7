//go:build testbed

package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// A DAG run's task reads its connection and a variable from Secrets
// Manager (under the prefixes the plan's airflow.cfg gives the backend,
// with the role the scheduler's service account assumes), and its log
// lands in the log bucket under the plan's remote_base_log_folder, where
// the API server reads it back for the UI. Substituted: the DAG (a user's,
// placed where git-sync would put it), the executor (LocalExecutor: the
// cluster test bed runs the KubernetesExecutor), AWS (moto).
func TestADagRunReadsItsConnectionAndItsLogLandsInS3(t *testing.T) {
	ctx := adminBrowser(t)
	dag := b.State.Airflow.DagID
	eventually(t, 3*time.Minute, "the DAG processor parses the DAG", func() error {
		if status, body := call(t, ctx, "GET", "/api/v2/dags/"+dag, nil); status != 200 {
			return fmt.Errorf("GET /api/v2/dags/%s: %d %.200s", dag, status, body)
		}
		return nil
	})
	if status, body := call(t, ctx, "PATCH", "/api/v2/dags/"+dag, map[string]any{"is_paused": false}); status != 200 {
		t.Fatalf("unpause: %d %s", status, body)
	}
	status, body := call(t, ctx, "POST", "/api/v2/dags/"+dag+"/dagRuns", map[string]any{"logical_date": nil})
	if status != 200 {
		t.Fatalf("trigger: %d %s", status, body)
	}
	var run struct {
		ID string `json:"dag_run_id"`
	}
	_ = json.Unmarshal([]byte(body), &run)
	var state string
	eventually(t, 5*time.Minute, "the run ends", func() error {
		_, body := call(t, ctx, "GET", "/api/v2/dags/"+dag+"/dagRuns/"+run.ID, nil)
		var r struct {
			State string `json:"state"`
		}
		_ = json.Unmarshal([]byte(body), &r)
		state = r.State
		if state == "success" || state == "failed" {
			return nil
		}
		return fmt.Errorf("state %q", state)
	})
	logPath := "/api/v2/dags/" + dag + "/dagRuns/" + run.ID + "/taskInstances/read_connection/logs/1?full_content=true"
	if state != "success" {
		_, logs := call(t, ctx, "GET", logPath, nil)
		t.Fatalf("the run %s: %s; the task's log:\n%s", run.ID, state, logs)
	}
	// The task's supervisor uploads the log when the task process has
	// ended, which may be a moment after the run is marked done.
	bucket := b.Plan.Output("airflowLogBucket")
	var logs string
	eventually(t, 2*time.Minute, "the task's log is in S3 and the API server serves it from there", func() error {
		if keys := s3Keys(t, bucket, "logs/dag_id="+dag+"/"); len(keys) == 0 {
			return fmt.Errorf("no object under s3://%s/logs/dag_id=%s/", bucket, dag)
		}
		_, logs = call(t, ctx, "GET", logPath, nil)
		// The API server found it in S3 (its sources), not on the worker.
		if !strings.Contains(logs, "s3://"+bucket+"/logs/dag_id="+dag) {
			return fmt.Errorf("the API server did not read the log from s3://%s/logs/: %.600s", bucket, logs)
		}
		return nil
	})
	for _, want := range []string{
		"TESTBED connection testbed_source host=source.testbed.internal login=reader",
		"TESTBED variable testbed_greeting=hello from Secrets Manager",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the task's log, as the API server serves it, lacks %q:\n%s", want, logs)
		}
	}
}

// s3Keys lists a bucket's keys under prefix as the bed's IAM administrator,
// with boto3 from the laptop.
func s3Keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	script := fmt.Sprintf(`import boto3
s3 = boto3.client("s3", region_name=%q)
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=%q, Prefix=%q):
    for o in page.get("Contents", []):
        print(o["Key"])
`, b.Plan.Output("region"), bucket, prefix)
	out, err := b.Client(bed.LaptopHost, []string{"AWS_ACCESS_KEY_ID=" + b.State.AWSAdmin.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + b.State.AWSAdmin.SecretAccessKey, "AWS_CA_BUNDLE=" + b.State.CA},
		b.Tools.MotoVenv+"/bin/python", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}
