package airflow

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// chartPodTemplate is the chart's pod template for the KubernetesExecutor's
// task pods, in the chart archive.
const chartPodTemplate = "airflow/files/pod-template-file.kubernetes-helm-yaml"

// standardEnvironment is where the chart's pod template gives task pods
// the chart's standard environment: the metadata database's connection (as
// the app's owner login, twice: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and
// AIRFLOW_CONN_AIRFLOW_DB), the fernet key and the API secret key.
var standardEnvironment = regexp.MustCompile(`\{\{-\s*include\s+"standard_airflow_environment"\s+\.\s*\|\s*indent\s+6\s*\}\}`)

// taskEnvironment replaces it. An Airflow 3 task reads and writes nothing
// in the metadata database: the task runner reaches the API server's
// Execution API with the token of its workload, which the scheduler signs
// and the API server checks, and connections and variables are decrypted
// there (airflow.sdk.execution_time: the supervisor blocks ORM access in
// the task process). So a task pod needs none of the four, and DAG code
// cannot read them. CONNECTION_CHECK_MAX_COUNT 0 skips the image
// entrypoint's `airflow db check`, which would otherwise try the database
// before every task.
const taskEnvironment = `
        - name: AIRFLOW_HOME
          value: {{ .Values.airflowHome | quote }}
        - name: CONNECTION_CHECK_MAX_COUNT
          value: "0"`

// TaskEnvironmentWithheld are the variables of the chart's standard
// environment that task pods do not get (TaskPodTemplate).
var TaskEnvironmentWithheld = []string{"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_CONN_AIRFLOW_DB", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}

// TaskPodTemplate returns the chart's own pod template for task pods (the
// chart value podTemplate) from archive, the vendored chart, with the
// chart's standard environment replaced by what a task needs
// (taskEnvironment). Everything else of the chart's template stays, so a
// chart upgrade brings its changes; a template that no longer includes the
// standard environment is an error, to be reviewed.
func TaskPodTemplate(archive []byte) (string, error) {
	tpl, err := fileOf(archive, chartPodTemplate)
	if err != nil {
		return "", err
	}
	if !standardEnvironment.Match(tpl) {
		return "", fmt.Errorf("the chart's %s no longer includes standard_airflow_environment as chart 1.21.0 does: review what its task pods get (components/airflow/taskpod.go)", chartPodTemplate)
	}
	return standardEnvironment.ReplaceAllLiteralString(string(tpl), taskEnvironment), nil
}

// fileOf returns the file name of a gzipped tar archive.
func fileOf(archive []byte, name string) ([]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("chart archive: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("chart archive has no %s", name)
		}
		if err != nil {
			return nil, fmt.Errorf("chart archive: %w", err)
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}
