package airflow

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/spec"
)

// ChartValues are the official Airflow chart values this library sets. The
// chart's schema (values.schema.json) rejects unknown keys and wrong types;
// tests validate these values against it.
type ChartValues struct {
	Executor string `json:"executor"`
	// AllowPodLaunching creates the chart's pod-launcher Role for the
	// scheduler, workers and triggerer alike; off, with a Role of ours for
	// the scheduler alone.
	AllowPodLaunching bool `json:"allowPodLaunching"`
	// NodeSelector applies to every pod whose component sets none.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// AirflowPodAnnotations go on every Airflow pod.
	AirflowPodAnnotations  map[string]string  `json:"airflowPodAnnotations,omitempty"`
	Images                 *Images            `json:"images,omitempty"`
	FernetKeySecretName    string             `json:"fernetKeySecretName"`
	APISecretKeySecretName string             `json:"apiSecretKeySecretName"`
	JWTSecretName          string             `json:"jwtSecretName"`
	Data                   Data               `json:"data"`
	Postgresql             Enabled            `json:"postgresql"`
	Redis                  Enabled            `json:"redis"`
	PgBouncer              PgBouncer          `json:"pgbouncer"`
	MigrateDatabaseJob     Job                `json:"migrateDatabaseJob"`
	Statsd                 Enabled            `json:"statsd"`
	Env                    []EnvVar           `json:"env"`
	Config                 map[string]Section `json:"config"`
	Dags                   Dags               `json:"dags"`
	CreateUserJob          CreateUserJob      `json:"createUserJob"`
	Workers                Workers            `json:"workers"`
	Scheduler              Component          `json:"scheduler"`
	APIServer              Component          `json:"apiServer"`
	Triggerer              Component          `json:"triggerer"`
	DagProcessor           Component          `json:"dagProcessor"`
	Ingress                Ingress            `json:"ingress"`
	// PodTemplate is the task pods' template (TaskPodTemplate); the chart
	// renders it with tpl, as it does its own.
	PodTemplate string `json:"podTemplate,omitempty"`
}

// Section is one section of airflow.cfg; the schema allows only scalars.
type Section map[string]pulumi.StringInput

// Images overrides the Airflow image.
type Images struct {
	Airflow Image `json:"airflow"`
}

// Image is a repository and tag.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
}

// Data points the chart at the metadata database's connection Secret.
type Data struct {
	MetadataSecretName string `json:"metadataSecretName"`
}

// Enabled switches a bundled component.
type Enabled struct {
	Enabled bool `json:"enabled"`
}

// PgBouncer configures the chart's PgBouncer, fed our own config Secret.
type PgBouncer struct {
	Enabled                   bool                       `json:"enabled"`
	PodAnnotations            map[string]string          `json:"podAnnotations,omitempty"`
	Replicas                  int                        `json:"replicas"`
	ConfigSecretName          string                     `json:"configSecretName"`
	SSL                       *PgBouncerSSL              `json:"ssl,omitempty"`
	MetricsExporterSidecar    MetricsExporterSidecar     `json:"metricsExporterSidecar"`
	PodDisruptionBudget       *PodDisruptionBudget       `json:"podDisruptionBudget,omitempty"`
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	Resources                 *Resources                 `json:"resources,omitempty"`
}

// PgBouncerSSL is pgbouncer.ssl: CA is the PEM bundle PgBouncer verifies
// the database server against.
type PgBouncerSSL struct {
	CA string `json:"ca,omitempty"`
}

// MetricsExporterSidecar is PgBouncer's metrics exporter.
type MetricsExporterSidecar struct {
	StatsSecretName string     `json:"statsSecretName"`
	Resources       *Resources `json:"resources,omitempty"`
}

// Job is one of the chart's jobs (the database migration).
type Job struct {
	Resources *Resources `json:"resources,omitempty"`
	// UseHelmHooks false makes the Job part of the release rather than a
	// post-install hook, which Helm runs only once the release's pods are
	// ready: the pods wait for the migrations (plan check k8s/hooks).
	UseHelmHooks *bool `json:"useHelmHooks,omitempty"`
	// ApplyCustomEnv false, with useHelmHooks false, as the chart's
	// documentation asks for installs that wait.
	ApplyCustomEnv *bool `json:"applyCustomEnv,omitempty"`
	// TTLSecondsAfterFinished 0 deletes the finished Job, so the next
	// upgrade makes it again (a Job's pod template cannot change).
	TTLSecondsAfterFinished *int `json:"ttlSecondsAfterFinished,omitempty"`
}

// Resources are a container's requests and limits, as Kubernetes writes them.
type Resources = spec.Requirements

// EnvVar is a plain environment variable of every Airflow container.
type EnvVar struct {
	Name  string             `json:"name"`
	Value pulumi.StringInput `json:"value"`
}

// Dags configures where DAGs come from.
type Dags struct {
	Persistence *DagPersistence `json:"persistence,omitempty"`
	GitSync     GitSync         `json:"gitSync"`
}

// DagPersistence mounts a shared volume for DAGs.
type DagPersistence struct {
	Enabled       bool   `json:"enabled"`
	ExistingClaim string `json:"existingClaim"`
	AccessMode    string `json:"accessMode"`
}

// GitSync configures the git-sync sidecar.
type GitSync struct {
	Enabled           bool       `json:"enabled"`
	Repo              string     `json:"repo,omitempty"`
	Branch            string     `json:"branch,omitempty"`
	SubPath           string     `json:"subPath,omitempty"`
	CredentialsSecret string     `json:"credentialsSecret,omitempty"`
	Resources         *Resources `json:"resources,omitempty"`
}

// CreateUserJob creates the first admin, reading the password from a Secret.
type CreateUserJob struct {
	// Enabled runs the job; off with single sign-on.
	Enabled     *bool          `json:"enabled,omitempty"`
	DefaultUser DefaultUser    `json:"defaultUser"`
	Env         []SecretEnvVar `json:"env"`
	Args        []string       `json:"args"`
	Resources   *Resources     `json:"resources,omitempty"`
	// As Job's: part of the release, deleted when done.
	UseHelmHooks            *bool `json:"useHelmHooks,omitempty"`
	ApplyCustomEnv          *bool `json:"applyCustomEnv,omitempty"`
	TTLSecondsAfterFinished *int  `json:"ttlSecondsAfterFinished,omitempty"`
}

// DefaultUser is the first admin; its password stays empty in the values.
type DefaultUser struct {
	Role      string `json:"role"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Password  string `json:"password"`
}

// SecretEnvVar is an environment variable read from a Secret.
type SecretEnvVar struct {
	Name      string    `json:"name"`
	ValueFrom ValueFrom `json:"valueFrom"`
}

// ValueFrom reads a key of a Secret.
type ValueFrom struct {
	SecretKeyRef SecretKeyRef `json:"secretKeyRef"`
}

// SecretKeyRef names a Secret's key.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Workers are the task pods' settings (KubernetesExecutor: the pod template).
type Workers struct {
	ServiceAccount ServiceAccount     `json:"serviceAccount"`
	Resources      *Resources         `json:"resources,omitempty"`
	Kubernetes     *WorkersKubernetes `json:"kubernetes,omitempty"`
}

// WorkersKubernetes place the pods created from the pod template file.
type WorkersKubernetes struct {
	// PodAnnotations go on every task pod.
	PodAnnotations map[string]string   `json:"podAnnotations,omitempty"`
	NodeSelector   map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations    []map[string]string `json:"tolerations,omitempty"`
}

// Component holds the settings of one Airflow component.
type Component struct {
	Replicas int `json:"replicas,omitempty"`
	// Persistence is the triggerer's log volume; off, as logs go to S3.
	Persistence               *Enabled                   `json:"persistence,omitempty"`
	ServiceAccount            ServiceAccount             `json:"serviceAccount"`
	PodDisruptionBudget       *PodDisruptionBudget       `json:"podDisruptionBudget,omitempty"`
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	Resources                 *Resources                 `json:"resources,omitempty"`
	// LogGroomerSidecar trims the component's local logs.
	LogGroomerSidecar *LogGroomer `json:"logGroomerSidecar,omitempty"`
	// APIServerConfig is the API server's webserver_config.py (single
	// sign-on); the chart renders it through tpl.
	APIServerConfig pulumi.StringInput `json:"apiServerConfig,omitempty"`
	// Env are further environment variables of the component.
	Env []ComponentEnv `json:"env,omitempty"`
}

// ComponentEnv is an environment variable with a value or read from a Secret.
type ComponentEnv struct {
	Name      string     `json:"name"`
	Value     string     `json:"value,omitempty"`
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// LogGroomer is the sidecar that deletes a component's old local logs.
type LogGroomer struct {
	Resources *Resources `json:"resources,omitempty"`
}

// PodDisruptionBudget keeps a component up while nodes are drained.
type PodDisruptionBudget struct {
	Enabled bool      `json:"enabled"`
	Config  PDBConfig `json:"config"`
}

// PDBConfig is a PodDisruptionBudget's limit.
type PDBConfig struct {
	MaxUnavailable int `json:"maxUnavailable"`
}

// TopologySpreadConstraint spreads a component's pods.
type TopologySpreadConstraint struct {
	MaxSkew           int           `json:"maxSkew"`
	TopologyKey       string        `json:"topologyKey"`
	WhenUnsatisfiable string        `json:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `json:"labelSelector"`
}

// LabelSelector selects pods by labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// ServiceAccount is a component's service account, annotated for IRSA.
type ServiceAccount struct {
	Create      bool                          `json:"create"`
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations"`
}

// Ingress is the chart's ingress block (Airflow 3: the API server).
type Ingress struct {
	APIServer APIServerIngress `json:"apiServer"`
}

// APIServerIngress exposes the API server (and UI).
type APIServerIngress struct {
	Enabled          bool              `json:"enabled"`
	IngressClassName string            `json:"ingressClassName"`
	Annotations      map[string]string `json:"annotations"`
	Path             string            `json:"path"`
	PathType         string            `json:"pathType"`
	Hosts            []IngressHost     `json:"hosts"`
}

// IngressHost is one host name.
type IngressHost struct {
	Name string `json:"name"`
}
