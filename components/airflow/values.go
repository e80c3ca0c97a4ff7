package airflow

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/stackconfig"
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
type Resources = stackconfig.Requirements

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

// RoleARNs are the IRSA roles the chart's service accounts name: the
// control components' and the task pods'.
type RoleARNs struct {
	// Control is the role of the components in AWSComponents; Tasks the
	// task pods' (none: they get no role).
	Control, Tasks pulumi.StringInput
}

// Values are the chart values: KubernetesExecutor, the metadata database
// through PgBouncer from a synced Secret, every generated secret from a
// synced Secret, IRSA on every component that reaches AWS, remote logs in
// S3, connections and variables from Secrets Manager, statsd, git-sync, and
// the ingress. No credential is in the values.
func Values(cfg Config, args *AirflowArgs, roles RoleARNs) ChartValues {
	off, zero := false, 0
	cfg = cfg.WithDefaults()
	annotations := map[string]pulumi.StringInput{identity.RoleARNAnnotation: roles.Control}
	sa := func(component string) Component {
		c := Component{ServiceAccount: ServiceAccount{Create: true, Name: AWSComponents[component], Annotations: annotations},
			Resources: cfg.Size(component).Requirements()}
		if component != "apiServer" {
			c.LogGroomerSidecar = &LogGroomer{Resources: cfg.Size("logGroomer").Requirements()}
		}
		return c
	}
	var taskAnnotations map[string]pulumi.StringInput
	if roles.Tasks != nil {
		taskAnnotations = map[string]pulumi.StringInput{identity.RoleARNAnnotation: roles.Tasks}
	}
	// ha gives a long-running component its replicas and, from 2 replicas,
	// a PodDisruptionBudget and a spread across zones.
	ha := func(c Component, replicas int, label string) Component {
		c.Replicas = replicas
		c.PodDisruptionBudget, c.TopologySpreadConstraints = availability(replicas, label)
		return c
	}
	kwargs, _ := json.Marshal(map[string]string{
		"connections_prefix": SecretsPrefix(args.Platform) + "/connections",
		"variables_prefix":   SecretsPrefix(args.Platform) + "/variables",
		"region_name":        args.Region,
	})
	// Every pod that holds the database credentials (all of Airflow's and
	// PgBouncer's) rolls when the active login changes; the old login stays
	// valid until the next rotation.
	var rollOn map[string]string
	if args.Logins != nil {
		rollOn = map[string]string{secretsync.CredentialsAnnotation: args.Logins.Active}
	}
	v := ChartValues{
		Executor:               "KubernetesExecutor",
		AirflowPodAnnotations:  rollOn,
		FernetKeySecretName:    PlatformSecretName,
		APISecretKeySecretName: PlatformSecretName,
		JWTSecretName:          PlatformSecretName,
		Data:                   Data{MetadataSecretName: MetadataSecretName},
		Postgresql:             Enabled{Enabled: false},
		Redis:                  Enabled{Enabled: false},
		PgBouncer: PgBouncer{
			Enabled:          true,
			PodAnnotations:   rollOn,
			Replicas:         cfg.Replicas.PgBouncer,
			ConfigSecretName: PgBouncerConfigSecretName,
			// The chart mounts it at PgBouncerCAFile (its certificates
			// Secret, made even with a config Secret of our own).
			SSL:                    &PgBouncerSSL{CA: args.CABundle},
			MetricsExporterSidecar: MetricsExporterSidecar{StatsSecretName: PgBouncerStatsSecretName, Resources: cfg.Size("pgbouncerExporter").Requirements()},
			Resources:              cfg.Size("pgbouncer").Requirements(),
		},
		// pulumi-kubernetes installs and upgrades the release as Helm's
		// --wait does: it waits for the pods before any post-install
		// hook, and the pods wait for the migrations, so the Jobs are
		// part of the release (the chart's documentation for --wait).
		MigrateDatabaseJob: Job{Resources: cfg.Size("migrateDatabaseJob").Requirements(), UseHelmHooks: &off, ApplyCustomEnv: &off, TTLSecondsAfterFinished: &zero},
		// The chart's own StatsD exporter runs only when nothing else
		// receives the metrics.
		Statsd: Enabled{Enabled: args.StatsdHost == ""},
		// An aws_default connection without credentials: boto3 then uses the
		// web identity token IRSA mounts.
		Env: []EnvVar{{Name: "AIRFLOW_CONN_AWS_DEFAULT", Value: pulumi.String("aws://?region_name=" + args.Region)}},
		Config: map[string]Section{
			"logging": {
				"remote_logging":         pulumi.String("True"),
				"remote_base_log_folder": pulumi.Sprintf("s3://%s/logs", args.LogBucketName),
				"remote_log_conn_id":     pulumi.String("aws_default"),
				"delete_local_logs":      pulumi.String("True"),
			},
			"secrets": {
				"backend":        pulumi.String("airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"),
				"backend_kwargs": pulumi.String(string(kwargs)),
			},
			"core": {"load_examples": pulumi.String("False")},
			// Behind the load balancer, FAB (sign-in, its callback URL)
			// trusts X-Forwarded-Proto, -Host and -Port (werkzeug's
			// ProxyFix); the API server's uvicorn does not read them (the
			// chart passes no --proxy-headers), and needs not.
			"fab": {"enable_proxy_fix": pulumi.String("True")},
		},
		Dags: Dags{GitSync: GitSync{Enabled: false}},
		CreateUserJob: CreateUserJob{
			UseHelmHooks: &off, ApplyCustomEnv: &off, TTLSecondsAfterFinished: &zero,
			Resources:   cfg.Size("createUserJob").Requirements(),
			DefaultUser: DefaultUser{Role: "Admin", Username: cfg.Admin.Username, Email: cfg.Admin.Email, FirstName: "Platform", LastName: "Admin", Password: ""},
			Env: []SecretEnvVar{{Name: adminPasswordEnv, ValueFrom: ValueFrom{SecretKeyRef: SecretKeyRef{
				Name: PlatformSecretName, Key: secrets.AirflowAdminPassword,
			}}}},
			Args: []string{
				"bash", "-c", "exec airflow users create \"$@\"", "--",
				"-r", "Admin", "-u", cfg.Admin.Username, "-e", cfg.Admin.Email, "-f", "Platform", "-l", "Admin",
				"-p", "$(" + adminPasswordEnv + ")",
			},
		},
		// The scheduler's own Role (podLauncher) replaces the chart's,
		// which task pods would share.
		AllowPodLaunching: false,
		Workers: Workers{
			ServiceAccount: ServiceAccount{Create: true, Name: AWSComponents["workers"], Annotations: taskAnnotations},
			Resources: &Resources{
				Requests: map[string]string{"cpu": cfg.Tasks.CPURequest, "memory": cfg.Tasks.MemoryRequest},
				Limits:   map[string]string{"cpu": cfg.Tasks.CPULimit, "memory": cfg.Tasks.MemoryLimit},
			},
		},
		Scheduler: ha(sa("scheduler"), cfg.Replicas.Scheduler, "scheduler"),
		APIServer: ha(sa("apiServer"), cfg.Replicas.APIServer, "api-server"),
		// Without a volume of its own the triggerer is a Deployment, not a
		// StatefulSet whose claims (100 GiB gp3 each) outlive the release:
		// its logs go to S3 like every component's.
		Triggerer:    withoutPersistence(ha(sa("triggerer"), cfg.Replicas.Triggerer, "triggerer")),
		DagProcessor: ha(sa("dagProcessor"), cfg.Replicas.DagProcessor, "dag-processor"),
		Ingress: Ingress{APIServer: APIServerIngress{
			Enabled:          true,
			IngressClassName: ingress.ClassName,
			Annotations:      ingress.Annotations(args.Ingress.WithDefaults(), "/api/v2/monitor/health"),
			Path:             "/",
			PathType:         "Prefix",
			Hosts:            []IngressHost{{Name: cfg.Host}},
		}},
	}
	taskSelector := maps.Clone(args.TaskNodeSelector)
	if archs := cfg.ImageArchitectures; len(archs) == 1 {
		// An image of one architecture: every pod stays on its nodes (the
		// task pods' own selector replaces the chart-wide one).
		v.NodeSelector = map[string]string{"kubernetes.io/arch": archs[0]}
		if taskSelector != nil {
			taskSelector["kubernetes.io/arch"] = archs[0]
		}
	}
	// A running task holds its node: consolidation and drift wait for it
	// (expiry, at most the NodePool's terminationGracePeriod).
	v.Workers.Kubernetes = &WorkersKubernetes{PodAnnotations: map[string]string{"karpenter.sh/do-not-disrupt": "true"},
		NodeSelector: taskSelector, Tolerations: args.TaskTolerations}
	v.PgBouncer.PodDisruptionBudget, v.PgBouncer.TopologySpreadConstraints = availability(cfg.Replicas.PgBouncer, "pgbouncer")
	if args.SignIn != nil {
		ssoValues(&v, args.SignIn)
	}
	if args.TaskRetries > 0 {
		v.Config["core"]["default_task_retries"] = pulumi.String(fmt.Sprint(args.TaskRetries))
	}
	if args.DagStorageClass != "" {
		v.Dags.Persistence = &DagPersistence{Enabled: true, ExistingClaim: DagClaimName, AccessMode: "ReadWriteMany"}
	}
	if args.StatsdHost != "" {
		v.Config["metrics"] = Section{
			"statsd_on":   pulumi.String("True"),
			"statsd_host": pulumi.String(args.StatsdHost),
			"statsd_port": pulumi.String("8125"),
		}
	}
	if cfg.GitSync.Repo != "" {
		v.Dags.GitSync = GitSync{Enabled: true, Repo: cfg.GitSync.Repo, Branch: cfg.GitSync.Branch, SubPath: cfg.GitSync.SubPath,
			Resources: cfg.Size("gitSync").Requirements()}
		if cfg.GitSync.CredentialsSecretARN != "" {
			v.Dags.GitSync.CredentialsSecret = GitCredentialsSecretName
		}
	}
	if cfg.Image != "" {
		i := strings.LastIndex(cfg.Image, ":")
		v.Images = &Images{Airflow: Image{Repository: cfg.Image[:i], Tag: cfg.Image[i+1:]}}
	}
	return v
}
