package airbyte

import (
	"maps"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// ChartValues are the Airbyte V2 chart values this library sets. The chart
// has no schema and ignores misspelt keys silently, so every key here was
// checked against the chart's templates, and tests pin them.
type ChartValues struct {
	Global           Global                 `json:"global"`
	ServiceAccount   ChartServiceAccount    `json:"serviceAccount"`
	Postgresql       Enabled                `json:"postgresql"`
	Minio            Enabled                `json:"minio"`
	Server           ServerValues           `json:"server"`
	WorkloadLauncher WorkloadLauncherValues `json:"workloadLauncher"`
	// The other components that hold database credentials.
	Worker            PodValues `json:"worker"`
	WorkloadAPIServer PodValues `json:"workloadApiServer"`
	Cron              PodValues `json:"cron"`
	Temporal          PodValues `json:"temporal"`
	Bootloader        PodValues `json:"airbyteBootloader"`
	// The components that hold no database credentials, named here only
	// for their service account: each would otherwise run as
	// global.serviceAccountName, the jobs' account.
	Webapp            PodValues     `json:"webapp"`
	ConnectorRollout  PodValues     `json:"connectorRolloutWorker"`
	FeatureflagServer PodValues     `json:"featureflagServer"`
	Metrics           PodValues     `json:"metrics"`
	ManifestServer    PodValues     `json:"manifestServer"`
	TemporalUI        PodValues     `json:"temporalUi"`
	Keycloak          PodValues     `json:"keycloak"`
	KeycloakSetup     PodValues     `json:"keycloakSetup"`
	StiggSidecar      PodValues     `json:"stiggSidecar"`
	Ingress           IngressValues `json:"ingress"`
}

// PodValues set a component's pod annotations, service account and
// resources, and what its container needs to verify the database.
type PodValues struct {
	PodAnnotations     map[string]string `json:"podAnnotations,omitempty"`
	ServiceAccountName string            `json:"serviceAccountName,omitempty"`
	Resources          *Resources        `json:"resources,omitempty"`
	// ExtraVolumes and ExtraVolumeMounts mount RDS's certificate
	// authorities (database.CAVolume) into the component's container.
	ExtraVolumes      []map[string]any `json:"extraVolumes,omitempty"`
	ExtraVolumeMounts []map[string]any `json:"extraVolumeMounts,omitempty"`
	// ExtraVolumeMount must be true for the bootloader's mounts to render:
	// its template tests this misspelt key before writing extraVolumeMounts
	// (airbyte-bootloader/pod.yaml of chart 2.2.0).
	ExtraVolumeMount bool `json:"extraVolumeMount,omitempty"`
	// EnvVars are plain variables the chart renders after its own (the last
	// of two variables of one name wins in the container).
	EnvVars map[string]string `json:"env_vars,omitempty"`
	// Database is read by Temporal's templates only, through the project's
	// patch of the chart (charts/patches/airbyte-2.2.0.patch).
	Database *TemporalDatabaseValues `json:"database,omitempty"`
}

// TemporalDatabaseValues set the two variables the chart hard-codes to
// "true" for an external database, in the airbyte-env ConfigMap that
// Temporal's container reads: "false" turns host verification on.
type TemporalDatabaseValues struct {
	// TLSDisableHostVerification is POSTGRES_TLS_DISABLE_HOST_VERIFICATION,
	// read by the auto-setup schema tool.
	TLSDisableHostVerification string `json:"tlsDisableHostVerification"`
	// SQLTLSDisableHostVerification is SQL_TLS_DISABLE_HOST_VERIFICATION.
	SQLTLSDisableHostVerification string `json:"sqlTlsDisableHostVerification"`
}

// Resources are a container's requests and limits, as Kubernetes writes them.
type Resources = stackconfig.Requirements

// Global is the chart's global block.
type Global struct {
	Edition string `json:"edition"`
	// AirbyteURL is where users reach Airbyte; the chart's default is
	// http://localhost:8080. Links Airbyte builds (and its API host) use it.
	AirbyteURL         string               `json:"airbyteUrl"`
	API                APIValues            `json:"api"`
	Auth               AuthValues           `json:"auth"`
	ServiceAccountName string               `json:"serviceAccountName"`
	Image              *ImageValues         `json:"image,omitempty"`
	Database           DatabaseValues       `json:"database"`
	Storage            StorageValues        `json:"storage"`
	SecretsManager     SecretsManagerValues `json:"secretsManager"`
	Workloads          WorkloadValues       `json:"workloads"`
	Jobs               *JobsValues          `json:"jobs,omitempty"`
}

// APIValues are global.api.
type APIValues struct {
	// Host is the public API's address; the chart's default for the
	// community edition is http://localhost:8001/api/public, which the
	// workers, launcher and cron would call in their own pods.
	Host string `json:"host"`
}

// AuthValues are global.auth.
type AuthValues struct {
	// Enabled is Airbyte's own login (one instance admin, a shared
	// password); off when the load balancer signs users in.
	Enabled  *bool        `json:"enabled,omitempty"`
	Security AuthSecurity `json:"security"`
}

// AuthSecurity are global.auth.security: the login cookie's attributes.
type AuthSecurity struct {
	// CookieSecureSetting marks the cookie Secure. The chart's default is
	// true, and browsers drop a Secure cookie over plain HTTP: without a
	// certificate, users could not stay signed in.
	CookieSecureSetting bool `json:"cookieSecureSetting"`
	// CookieSameSiteSetting is "Strict": users reach Airbyte at one host.
	CookieSameSiteSetting string `json:"cookieSameSiteSetting"`
}

// JobsValues are global.jobs: where sync job pods run.
type JobsValues struct {
	Kube JobsKube `json:"kube"`
}

// JobsKube are global.jobs.kube: the chart renders them into the launcher's
// JOB_KUBE_NODE_SELECTORS and JOB_KUBE_TOLERATIONS.
type JobsKube struct {
	// Annotations go on every job pod (JOB_KUBE_ANNOTATIONS).
	Annotations  map[string]string   `json:"annotations,omitempty"`
	NodeSelector map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations  []map[string]string `json:"tolerations,omitempty"`
}

// ImageValues set the registry of Airbyte's images.
type ImageValues struct {
	Registry string `json:"registry"`
}

// DatabaseValues are global.database.
type DatabaseValues struct {
	Type              string             `json:"type"`
	SecretName        string             `json:"secretName"`
	Host              pulumi.StringInput `json:"host"`
	Port              int                `json:"port"`
	Name              string             `json:"name"`
	UserSecretKey     string             `json:"userSecretKey"`
	PasswordSecretKey string             `json:"passwordSecretKey"`
	Replica           ReplicaValues      `json:"replica"`
}

// ReplicaValues are global.database.replica.
type ReplicaValues struct {
	URL               pulumi.StringInput `json:"url,omitempty"`
	UserSecretKey     string             `json:"userSecretKey"`
	PasswordSecretKey string             `json:"passwordSecretKey"`
}

// StorageValues are global.storage.
type StorageValues struct {
	Type   string       `json:"type"`
	Bucket BucketValues `json:"bucket"`
	S3     S3Values     `json:"s3"`
}

// BucketValues name the bucket of each kind of document.
type BucketValues struct {
	Log             pulumi.StringInput `json:"log"`
	State           pulumi.StringInput `json:"state"`
	WorkloadOutput  pulumi.StringInput `json:"workloadOutput"`
	ActivityPayload pulumi.StringInput `json:"activityPayload"`
	AuditLogging    pulumi.StringInput `json:"auditLogging"`
}

// S3Values are global.storage.s3.
type S3Values struct {
	Region             string `json:"region"`
	AuthenticationType string `json:"authenticationType"`
}

// SecretsManagerValues are global.secretsManager.
type SecretsManagerValues struct {
	Type             string                 `json:"type"`
	AWSSecretManager AWSSecretManagerValues `json:"awsSecretManager"`
}

// AWSSecretManagerValues are global.secretsManager.awsSecretManager.
type AWSSecretManagerValues struct {
	Region string             `json:"region"`
	KMSArn pulumi.StringInput `json:"kmsArn"`
	Tags   []Tag              `json:"tags"`
}

// Tag is one tag Airbyte puts on the secrets it creates.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// WorkloadValues are global.workloads.
type WorkloadValues struct {
	Resources WorkloadResources `json:"resources"`
}

// WorkloadResources are global.workloads.resources.
type WorkloadResources struct {
	// MainContainer is the connector's container in sync pods.
	MainContainer ContainerResources `json:"mainContainer"`
	// Check and Discover are the connector's container in check and
	// discover pods; Replication the orchestrator of sync pods; Sidecar
	// the sidecar of check, discover and spec pods. Empty, the chart
	// renders an empty request and the containers request nothing.
	Check       ContainerResources `json:"check"`
	Discover    ContainerResources `json:"discover"`
	Replication ContainerResources `json:"replication"`
	Sidecar     ContainerResources `json:"sidecar"`
}

// ContainerResources hold a container's CPU and memory.
type ContainerResources struct {
	CPU    RequestLimit `json:"cpu"`
	Memory RequestLimit `json:"memory"`
}

// RequestLimit is a request and a limit.
type RequestLimit struct {
	Request string `json:"request"`
	Limit   string `json:"limit"`
}

// ChartServiceAccount is the chart's serviceAccount block.
type ChartServiceAccount struct {
	Create bool   `json:"create"`
	Name   string `json:"name"`
}

// Enabled switches a bundled dependency.
type Enabled struct {
	Enabled bool `json:"enabled"`
}

// ServerValues are the server block; of the chart's deployments only the
// server templates topologySpreadConstraints.
type ServerValues struct {
	ReplicaCount              int                        `json:"replicaCount"`
	ServiceAccountName        string                     `json:"serviceAccountName"`
	Resources                 *Resources                 `json:"resources,omitempty"`
	PodAnnotations            map[string]string          `json:"podAnnotations,omitempty"`
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// ExtraVolumes and ExtraVolumeMounts mount RDS's certificate
	// authorities (database.CAVolume) into the component's container.
	ExtraVolumes      []map[string]any `json:"extraVolumes,omitempty"`
	ExtraVolumeMounts []map[string]any `json:"extraVolumeMounts,omitempty"`
}

// TopologySpreadConstraint spreads pods across a topology.
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

// WorkloadLauncherValues are the workloadLauncher block. The launcher has
// no topologySpreadConstraints in the chart; a preferred anti-affinity
// spreads it across zones instead.
type WorkloadLauncherValues struct {
	ReplicaCount       int               `json:"replicaCount"`
	ServiceAccountName string            `json:"serviceAccountName"`
	Resources          *Resources        `json:"resources,omitempty"`
	PodAnnotations     map[string]string `json:"podAnnotations,omitempty"`
	Affinity           *Affinity         `json:"affinity,omitempty"`
	Connector          *ConnectorValues  `json:"connector,omitempty"`
	// ExtraVolumes and ExtraVolumeMounts mount RDS's certificate
	// authorities (database.CAVolume) into the component's container.
	ExtraVolumes      []map[string]any `json:"extraVolumes,omitempty"`
	ExtraVolumeMounts []map[string]any `json:"extraVolumeMounts,omitempty"`
}

// Affinity is a pod's affinity block.
type Affinity struct {
	PodAntiAffinity PodAntiAffinity `json:"podAntiAffinity"`
}

// PodAntiAffinity keeps replicas apart.
type PodAntiAffinity struct {
	Preferred []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution"`
}

// WeightedPodAffinityTerm is a preferred anti-affinity term.
type WeightedPodAffinityTerm struct {
	Weight          int             `json:"weight"`
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm"`
}

// PodAffinityTerm names the pods to keep apart from, and where.
type PodAffinityTerm struct {
	TopologyKey   string        `json:"topologyKey"`
	LabelSelector LabelSelector `json:"labelSelector"`
}

// ConnectorValues are workloadLauncher.connector.
type ConnectorValues struct {
	Image ConnectorImage `json:"image"`
}

// ConnectorImage sets where connector images come from; an empty (not
// absent) registry means Docker Hub.
type ConnectorImage struct {
	Registry *string `json:"registry"`
}

// IngressValues are the ingress block.
type IngressValues struct {
	Enabled     bool                          `json:"enabled"`
	ClassName   string                        `json:"className"`
	Annotations map[string]pulumi.StringInput `json:"annotations"`
	Hosts       []IngressHost                 `json:"hosts"`
}

// IngressHost is one host of the ingress.
type IngressHost struct {
	Host  string        `json:"host"`
	Paths []IngressPath `json:"paths"`
}

// IngressPath routes a path to the server ("server" is the only backend the chart accepts).
type IngressPath struct {
	Path     string `json:"path"`
	PathType string `json:"pathType"`
	Backend  string `json:"backend"`
}

// Values are the chart values for cfg: external database, S3 storage and
// AWS Secrets Manager, all through IRSA; no MinIO, no in-cluster Postgres,
// and no credential in the values. Keys follow what the chart's templates
// read (see shared/CHARTS.md): lowercase "s3", "kmsArn", "name".
func Values(cfg Config, args *AirbyteArgs) ChartValues {
	cfg = cfg.WithDefaults()
	bucket := args.BucketName
	url := ingress.URL(args.Ingress, cfg.Host)
	// Every pod that holds the database credentials rolls (one at a time,
	// the new before the old goes) when the active login changes; the old
	// login stays valid until the next rotation.
	var rollOn map[string]string
	if args.Logins != nil {
		rollOn = map[string]string{secretsync.CredentialsAnnotation: args.Logins.Active}
	}
	v := ChartValues{
		Global: Global{
			Edition:    "community",
			AirbyteURL: url,
			API:        APIValues{Host: url + "/api/public"},
			// The login cookie is Secure exactly when users reach Airbyte
			// over HTTPS (a certificate on the load balancer).
			Auth: AuthValues{Enabled: authEnabled(args), Security: AuthSecurity{
				CookieSecureSetting:   strings.HasPrefix(url, "https://"),
				CookieSameSiteSetting: "Strict",
			}},
			// The job pods' account (JOB_KUBE_SERVICEACCOUNT); every
			// component names the platform's below.
			ServiceAccountName: JobServiceAccountName,
			Database: DatabaseValues{
				Type:              "external",
				SecretName:        DatabaseSecretName,
				Host:              args.Database.Address,
				Port:              database.Port,
				Name:              args.Logins.DatabaseName,
				UserSecretKey:     DatabaseUserKey,
				PasswordSecretKey: DatabasePasswordKey,
				// The chart also reads replica credentials from the same
				// Secret; they are the master credentials too. The replica
				// URL stays the chart's default (the primary): pointing
				// Airbyte at a read replica would make every install wait
				// for the replica to be built.
				Replica: ReplicaValues{UserSecretKey: DatabaseUserKey, PasswordSecretKey: DatabasePasswordKey},
			},
			Storage: StorageValues{
				Type: "s3",
				Bucket: BucketValues{
					Log: bucket, State: bucket, WorkloadOutput: bucket, ActivityPayload: bucket, AuditLogging: bucket,
				},
				S3: S3Values{Region: args.Region, AuthenticationType: "instanceProfile"},
			},
			SecretsManager: SecretsManagerValues{
				Type: "AWS_SECRET_MANAGER",
				AWSSecretManager: AWSSecretManagerValues{
					Region: args.Region,
					KMSArn: args.KMSKeyARN,
					Tags:   secretTags(args.SecretTags),
				},
			},
			Workloads: WorkloadValues{Resources: WorkloadResources{
				MainContainer: ContainerResources{
					CPU:    RequestLimit{Request: cfg.Jobs.CPURequest, Limit: cfg.Jobs.CPULimit},
					Memory: RequestLimit{Request: cfg.Jobs.MemoryRequest, Limit: cfg.Jobs.MemoryLimit},
				},
				Check:       JobContainerResources["check"],
				Discover:    JobContainerResources["discover"],
				Replication: JobContainerResources["replication"],
				Sidecar:     JobContainerResources["sidecar"],
			}},
		},
		ServiceAccount:    ChartServiceAccount{Create: false, Name: ServiceAccountName},
		Postgresql:        Enabled{Enabled: false},
		Minio:             Enabled{Enabled: false},
		Server:            ServerValues{ReplicaCount: cfg.ServerReplicas, PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("server").Requirements()},
		WorkloadLauncher:  WorkloadLauncherValues{ReplicaCount: cfg.WorkloadLauncherReplicas, PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("workloadLauncher").Requirements()},
		Worker:            PodValues{PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("worker").Requirements()},
		WorkloadAPIServer: PodValues{PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("workloadApiServer").Requirements()},
		Cron:              PodValues{PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("cron").Requirements()},
		Temporal:          PodValues{PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("temporal").Requirements()},
		Bootloader:        PodValues{PodAnnotations: rollOn, ServiceAccountName: ServiceAccountName, Resources: cfg.Size("airbyteBootloader").Requirements()},
		Webapp:            PodValues{ServiceAccountName: ServiceAccountName},
		ConnectorRollout:  PodValues{ServiceAccountName: ServiceAccountName},
		FeatureflagServer: PodValues{ServiceAccountName: ServiceAccountName},
		Metrics:           PodValues{ServiceAccountName: ServiceAccountName},
		ManifestServer:    PodValues{ServiceAccountName: ServiceAccountName, Resources: cfg.Size("manifestServer").Requirements()},
		TemporalUI:        PodValues{ServiceAccountName: ServiceAccountName},
		Keycloak:          PodValues{ServiceAccountName: ServiceAccountName},
		KeycloakSetup:     PodValues{ServiceAccountName: ServiceAccountName},
		StiggSidecar:      PodValues{ServiceAccountName: ServiceAccountName},
		Ingress: IngressValues{
			Enabled:     true,
			ClassName:   ingress.ClassName,
			Annotations: ingressAnnotations(args),
			Hosts: []IngressHost{{
				Host:  cfg.Host,
				Paths: []IngressPath{{Path: "/", PathType: "Prefix", Backend: "server"}},
			}},
		},
	}
	jobSelector := maps.Clone(args.JobNodeSelector)
	if arch := cfg.ConnectorArchitecture; arch != "" && arch != "any" {
		// Connector images are published for amd64 first; the jobs stay on
		// the nodes their images run on (plan check k8s/architecture).
		if jobSelector == nil {
			jobSelector = map[string]string{}
		}
		jobSelector["kubernetes.io/arch"] = arch
	}
	// A running sync or check holds its node: consolidation and drift
	// wait for it (expiry, at most the NodePool's terminationGracePeriod).
	v.Global.Jobs = &JobsValues{Kube: JobsKube{Annotations: map[string]string{DoNotDisrupt: "true"}, NodeSelector: jobSelector, Tolerations: args.JobTolerations}}
	if cfg.ServerReplicas > 1 {
		v.Server.TopologySpreadConstraints = []TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "ScheduleAnyway",
			LabelSelector: LabelSelector{MatchLabels: PodLabels("server")},
		}}
	}
	if cfg.WorkloadLauncherReplicas > 1 {
		v.WorkloadLauncher.Affinity = &Affinity{PodAntiAffinity: PodAntiAffinity{Preferred: []WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: PodAffinityTerm{
				TopologyKey:   "topology.kubernetes.io/zone",
				LabelSelector: LabelSelector{MatchLabels: PodLabels("workload-launcher")},
			},
		}}}}
	}
	if cfg.ImageRegistry != "" {
		v.Global.Image = &ImageValues{Registry: cfg.ImageRegistry}
		if !cfg.MirrorConnectors {
			// The chart sends connectors to the mirror too unless this key is present and empty.
			empty := ""
			v.WorkloadLauncher.Connector = &ConnectorValues{Image: ConnectorImage{Registry: &empty}}
		}
	}
	verifyDatabase(&v)
	return v
}
