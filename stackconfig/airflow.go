package stackconfig

import (
	"regexp"
	"slices"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Airflow is the stack config of Airflow (dataplatform:apps.airflow).
type Airflow struct {
	// ChartVersion pins the official chart, such as "1.21.0". Required.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Namespace Airflow runs in. Default "airflow".
	Namespace string `json:"namespace,omitempty"`
	// Host is the UI's host name on the load balancer. Required.
	Host string `json:"host,omitempty"`
	// Image overrides the Airflow image ("repository:tag"), for images with
	// the team's dependencies. Default: the chart's.
	Image string `json:"image,omitempty"`
	// ImageArchitectures are the CPU architectures Image is published for:
	// Airflow's pods are pinned to the first when they are not all of the
	// nodes' ("amd64", "arm64"). Default: both for the chart's image,
	// ["amd64"] for another (a build on an amd64 machine, unless it says
	// otherwise).
	ImageArchitectures []string `json:"imageArchitectures,omitempty"`
	// Admin is the first admin user; the password is generated.
	Admin AirflowAdmin `json:"admin,omitempty"`
	// GitSync pulls DAGs from a repository. Without a repository, DAGs come
	// from the image.
	GitSync GitSync `json:"gitSync,omitempty"`
	// TaskNodePool is the Karpenter NodePool task pods run on (its nodes
	// selected, its taints tolerated), such as a spot pool for retryable
	// tasks. Default: wherever they fit.
	TaskNodePool string `json:"taskNodePool,omitempty"`
	// Replicas of the long-running components; at 2 or more each gets a
	// PodDisruptionBudget and is spread across zones. Default 1 each.
	Replicas AirflowReplicas `json:"replicas,omitempty"`
	// DagsOnEFS keeps DAGs on an encrypted EFS volume shared by every
	// component (ReadWriteMany), instead of each pod's git-sync copy. With
	// gitSync set too, git-sync writes into that volume.
	DagsOnEFS bool `json:"dagsOnEfs,omitempty"`
	// Resources override the sizes of Airflow's components (AirflowSizes),
	// by the chart's key, such as scheduler, apiServer, dagProcessor,
	// triggerer, pgbouncer.
	Resources Sizes `json:"resources,omitempty"`
	// Tasks are the resources of each task pod's container (the
	// KubernetesExecutor's pod template); defaults as for JobResources.
	Tasks JobResources `json:"tasks,omitempty"`
	// PgBouncerPoolSize is the server connections per database. Default 10.
	PgBouncerPoolSize int `json:"pgBouncerPoolSize,omitempty"`
}

// AirflowReplicas are the replica counts of Airflow's long-running components.
type AirflowReplicas struct {
	// Scheduler replicas (Airflow 3 runs several schedulers safely).
	Scheduler int `json:"scheduler,omitempty"`
	// APIServer replicas: the UI and REST API.
	APIServer int `json:"apiServer,omitempty"`
	// Triggerer replicas (deferrable operators).
	Triggerer int `json:"triggerer,omitempty"`
	// DagProcessor replicas (DAG parsing).
	DagProcessor int `json:"dagProcessor,omitempty"`
	// PgBouncer replicas (the metadata database's connection pool).
	PgBouncer int `json:"pgBouncer,omitempty"`
}

// AirflowAdmin describes the first admin user.
type AirflowAdmin struct {
	// Username of the first admin. Default "admin".
	Username string `json:"username,omitempty"`
	// Email of the first admin. Default "admin@example.com".
	Email string `json:"email,omitempty"`
}

// GitSync is where DAGs come from.
type GitSync struct {
	// Repo is the HTTPS URL of the repository.
	Repo string `json:"repo,omitempty"`
	// Branch to follow. Default "main".
	Branch string `json:"branch,omitempty"`
	// SubPath is the DAG folder inside the repository.
	SubPath string `json:"subPath,omitempty"`
	// CredentialsSecretARN is a Secrets Manager secret with JSON keys
	// "username" and "password" (a token), for private repositories.
	CredentialsSecretARN string `json:"credentialsSecretArn,omitempty"`
}

var (
	imageRef = regexp.MustCompile(`^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$`)
	gitURL   = regexp.MustCompile(`^https://[^\s]+$`)
	smARN    = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	email    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)
)

// WithDefaults returns c with every unset field given its default.
func (c Airflow) WithDefaults() Airflow {
	if c.Namespace == "" {
		c.Namespace = AirflowNamespace
	}
	c.Tasks = c.Tasks.WithDefaults()
	if len(c.ImageArchitectures) == 0 {
		c.ImageArchitectures = []string{"amd64", "arm64"}
		if c.Image != "" {
			c.ImageArchitectures = []string{"amd64"}
		}
	}
	if c.Admin.Username == "" {
		c.Admin.Username = "admin"
	}
	if c.Admin.Email == "" {
		c.Admin.Email = "admin@example.com"
	}
	if c.GitSync.Repo != "" && c.GitSync.Branch == "" {
		c.GitSync.Branch = "main"
	}
	for _, r := range []*int{&c.Replicas.Scheduler, &c.Replicas.APIServer, &c.Replicas.Triggerer, &c.Replicas.DagProcessor, &c.Replicas.PgBouncer} {
		if *r == 0 {
			*r = 1
		}
	}
	if c.PgBouncerPoolSize == 0 {
		c.PgBouncerPoolSize = 10
	}
	return c
}

// Validate reports every problem of a defaulted Airflow.
func (c Airflow) Validate() *validate.Problems {
	var p validate.Problems
	if !semver.MatchString(c.ChartVersion) {
		p.Addf("chartVersion", "required: an Airflow chart version such as \"1.21.0\", got %q", c.ChartVersion)
	}
	if !dnsLabel.MatchString(c.Namespace) {
		p.Addf("namespace", "want a Kubernetes namespace name, got %q", c.Namespace)
	}
	if !hostname.MatchString(c.Host) {
		p.Addf("host", "required: the UI's host name, such as \"airflow.example.com\", got %q", c.Host)
	}
	for i, a := range c.ImageArchitectures {
		if a != "amd64" && a != "arm64" || slices.Index(c.ImageArchitectures, a) != i {
			p.Addf(validate.Index("imageArchitectures", i), "want %s, each once, got %q", validate.OneOf("amd64", "arm64"), a)
		}
	}
	if c.Image != "" && !imageRef.MatchString(c.Image) {
		p.Addf("image", "want \"repository:tag\", such as \"123456789012.dkr.ecr.us-east-1.amazonaws.com/airflow:3.2.0-1\", got %q", c.Image)
	}
	if !dnsLabel.MatchString(c.Admin.Username) {
		p.Addf("admin.username", "want lowercase letters, digits and hyphens, got %q", c.Admin.Username)
	}
	if !email.MatchString(c.Admin.Email) {
		p.Addf("admin.email", "want an e-mail address, got %q", c.Admin.Email)
	}
	if c.GitSync.Repo != "" && !gitURL.MatchString(c.GitSync.Repo) {
		p.Addf("gitSync.repo", "want an https:// repository URL, got %q", c.GitSync.Repo)
	}
	if c.GitSync.Repo == "" && (c.GitSync.SubPath != "" || c.GitSync.CredentialsSecretARN != "") {
		p.Addf("gitSync.repo", "required when gitSync.subPath or gitSync.credentialsSecretArn is set")
	}
	if c.GitSync.CredentialsSecretARN != "" && !smARN.MatchString(c.GitSync.CredentialsSecretARN) {
		p.Addf("gitSync.credentialsSecretArn", "want a Secrets Manager secret ARN, got %q", c.GitSync.CredentialsSecretARN)
	}
	for field, n := range map[string]int{
		"replicas.scheduler": c.Replicas.Scheduler, "replicas.apiServer": c.Replicas.APIServer, "replicas.triggerer": c.Replicas.Triggerer,
		"replicas.dagProcessor": c.Replicas.DagProcessor, "replicas.pgBouncer": c.Replicas.PgBouncer,
	} {
		if n < 1 || n > 10 {
			p.Addf(field, "want 1 to 10, got %d", n)
		}
	}
	c.Tasks.validate(&p, "tasks")
	c.Resources.validate(&p, "resources", AirflowSizes)
	if c.PgBouncerPoolSize < 1 || c.PgBouncerPoolSize > 500 {
		p.Addf("pgBouncerPoolSize", "want 1 to 500, got %d", c.PgBouncerPoolSize)
	}
	return &p
}

// SecretARNs are the secrets the operator must be allowed to read for Airflow.
func (c Airflow) SecretARNs() []string {
	if c.GitSync.CredentialsSecretARN == "" {
		return nil
	}
	return []string{c.GitSync.CredentialsSecretARN}
}
