package airflow

import (
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/internal/structmap"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// TypeToken is the Pulumi type of the Airflow component.
const TypeToken = "dataplatform:airflow:Airflow"

// Kubernetes Secrets synced from Secrets Manager, with the keys the chart reads.
const (
	// MetadataSecretName holds "connection": the metadata database URL, through PgBouncer.
	MetadataSecretName = "airflow-metadata"
	// PgBouncerConfigSecretName holds "pgbouncer.ini" and "users.txt".
	PgBouncerConfigSecretName = "airflow-pgbouncer-config"
	// PgBouncerStatsSecretName holds "connection" for the metrics exporter.
	PgBouncerStatsSecretName = "airflow-pgbouncer-stats"
	// PlatformSecretName holds fernet-key, api-secret-key, jwt-secret and admin-password.
	PlatformSecretName = "airflow-platform"
	// GitCredentialsSecretName holds the git-sync credentials, when configured.
	GitCredentialsSecretName = "airflow-git-credentials"
	// DagClaimName is the claim DAGs are kept on when they live on EFS.
	DagClaimName = "airflow-dags"
	// PgBouncerDatabase is the database name clients use at PgBouncer.
	PgBouncerDatabase = "airflow-metadata"
	// PgBouncerPort is the chart's PgBouncer port.
	PgBouncerPort = 6543
)

// adminPasswordEnv is the variable the create-user job reads the admin's
// password from; kubelet expands $(VAR) in args, so no value sits in the spec.
const adminPasswordEnv = "DATAPLATFORM_ADMIN_PASSWORD"

// AirflowArgs are the inputs of NewAirflow. Kubernetes resources use the
// provider given to the component.
type AirflowArgs struct {
	// Config decides what is installed; see stackconfig.Airflow for defaults.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts). The
	// program reads the Airflow archive there too (checked against the
	// SHA256SUMS beside it), for the task pods' template (TaskPodTemplate).
	ChartDir string
	// Platform is the platform's name; the Secrets Manager backend reads
	// "<platform>/airflow/connections/*" and ".../variables/*". Required.
	Platform string
	// Region of the log bucket and Secrets Manager. Required.
	Region string
	// Database is Airflow's PostgreSQL instance. Required.
	Database *database.Postgres
	// Logins are Airflow's own database logins; Airflow (through PgBouncer)
	// connects with the active one, never as the RDS master user. Required.
	Logins *database.Logins
	// LoginJob is the Job that makes the logins in the database (the Job
	// field of database.NewLoginJob's result, not the component, whose
	// master-credential secrets the app must not wait for); the release
	// waits for it.
	LoginJob pulumi.Resource
	// LogBucketName is the bucket of remote task logs; LogBucketReady its last setting. Required.
	LogBucketName  pulumi.StringInput
	LogBucketReady pulumi.Resource
	// LogBucketARN is the log bucket's ARN, which the IRSA roles are scoped to. Required.
	LogBucketARN pulumi.StringInput
	// KMSKeyARN is the platform key, which encrypts the log objects and the
	// secrets the roles read. Required.
	KMSKeyARN pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's IAM OIDC provider
	// (as in identity.IrsaRoleArgs): the component's IRSA roles trust its
	// service accounts through it. Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// AccountID is the AWS account, which scopes the roles' Secrets Manager
	// permissions. Required.
	AccountID string
	// SignIn, when set, signs users in through its Cognito user pool (an
	// app client named "airflow" whose secret is stored): the FAB auth
	// manager's OAuth, with the pool's groups mapped to Airflow's roles,
	// and no first admin user.
	SignIn *identity.SignIn
	// PlatformSecretARN is the secret with the generated Airflow* values. Required.
	PlatformSecretARN pulumi.StringInput
	// CABundle is RDS's certificate authorities (PEM): PgBouncer, Airflow's
	// only client of the database, verifies the server against them.
	// Required.
	CABundle string
	// SecretSync is the operator; Airflow's namespace gets a SecretStore of
	// its own that reads only Airflow's secrets (its logins, the platform
	// secret, the git credentials). Required.
	SecretSync *secretsync.Operator
	// Ingress configures the load balancer; LoadBalancerController must run first.
	Ingress ingress.Config
	// Network places the load balancers, databases and endpoints by
	// address, for the namespace's NetworkPolicies (NetworkPolicies). Nil
	// creates none: the namespace's pods then reach, and are reached by,
	// every pod of the cluster.
	Network                *netpol.Network
	LoadBalancerController pulumi.Resource
	// NodePool is a Karpenter NodePool the task pods can land on.
	NodePool pulumi.Resource
	// DagStorageClass is a ReadWriteMany StorageClass (EFS) to keep DAGs
	// on, in a claim the component creates; empty keeps DAGs in git-sync
	// or the image.
	DagStorageClass string
	// StatsdHost receives Airflow's StatsD metrics (the CloudWatch agent);
	// empty keeps the chart's own StatsD exporter.
	StatsdHost string
	// WaitFor are further resources the release waits for (such as the
	// DAG volume's storage).
	WaitFor []pulumi.Resource
	// SnapshotBeforeUpgrade takes a manual snapshot of the database, named
	// after the chart version, before the release is installed or upgraded.
	SnapshotBeforeUpgrade bool
	// SnapshotAfter are snapshots of the same instance that the snapshot
	// waits for, such as Airbyte's on a shared instance: RDS refuses a
	// snapshot of an instance while another is being taken.
	SnapshotAfter []pulumi.Resource
	// TaskRetries is Airflow's default number of retries of a task
	// (core.default_task_retries), for task pods on spot nodes: a task
	// whose node is reclaimed is retried. 0 keeps Airflow's default (0).
	TaskRetries int
	// TaskNodeSelector and TaskTolerations place task pods (such as on a
	// spot NodePool); see karpenter.Placement.
	TaskNodeSelector map[string]string
	TaskTolerations  []map[string]string
	// Tags are put on the AWS resources the component creates (snapshots).
	Tags map[string]string
}

// Airflow is the installed Airflow. Create it with NewAirflow.
type Airflow struct {
	pulumi.ResourceState

	// Release is the Helm release.
	Release *helmv3.Release
	// URL is the UI's address.
	URL pulumi.StringOutput `pulumi:"url"`
	// Role is the control components' IRSA role (Policies); TaskRole the
	// task pods' (TaskPolicies).
	Role, TaskRole *identity.IrsaRole
}

// NewAirflow installs Airflow into its namespace.
func NewAirflow(ctx *pulumi.Context, name string, args *AirflowArgs, opts ...pulumi.ResourceOption) (*Airflow, error) {
	if args == nil {
		args = &AirflowArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.Database == nil || args.Logins == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil || args.AccountID == "" || args.SecretSync == nil || args.LogBucketName == nil || args.LogBucketARN == nil || args.KMSKeyARN == nil || args.PlatformSecretARN == nil || args.Region == "" || args.Platform == "" || args.CABundle == "" {
		problems.Addf("args", "platform, region, accountId, database, logins, oidcProviderArn, oidcIssuer, secretSync, logBucketName, logBucketArn, kmsKeyArn, platformSecretArn and caBundle are required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	a := &Airflow{}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	b := &airflowBuild{ctx: ctx, name: name, cfg: cfg, args: args, a: a, parent: pulumi.Parent(a)}
	for _, step := range []func() error{b.roles, b.namespaceAndPolicies, b.secretStore, b.syncSecrets} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	launcher, err := podLauncher(ctx, name, b.namespace, b.parent)
	if err != nil {
		return nil, err
	}
	deps, err := b.dependencies(launcher)
	if err != nil {
		return nil, err
	}
	release, err := b.release(deps)
	if err != nil {
		return nil, err
	}
	a.Release = release
	a.URL = pulumi.String(ingress.URL(args.Ingress, cfg.Host)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"url": a.URL}); err != nil {
		return nil, err
	}
	return a, nil
}

// airflowBuild is NewAirflow's work in named steps.
type airflowBuild struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	args   *AirflowArgs
	a      *Airflow
	parent pulumi.ResourceOption

	ns        *corev1.Namespace
	namespace pulumi.StringOutput
	policies  []pulumi.Resource
	store     *secretsync.Store
	synced    []pulumi.Resource
}

// namespaceAndPolicies makes the namespace and its NetworkPolicies.
func (b *airflowBuild) namespaceAndPolicies() error {
	var policies []netpol.Policy
	if b.args.Network != nil {
		policies = NetworkPolicies(*b.args.Network)
	}
	var err error
	b.ns, b.policies, err = netpol.Isolated(b.ctx, b.name, b.cfg.Namespace, policies, b.parent)
	if err != nil {
		return err
	}
	b.namespace = b.ns.Metadata.Name().Elem()
	return nil
}

// secretStore makes the namespace's SecretStore, which may read the
// platform secret, the logins, the connections' and variables' secrets,
// and the sign-in's client secret.
func (b *airflowBuild) secretStore() error {
	readable := []pulumi.StringInput{b.args.PlatformSecretARN}
	for _, c := range database.Colors {
		readable = append(readable, b.args.Logins.SecretARNs[c])
	}
	for _, arn := range b.cfg.SecretARNs() {
		readable = append(readable, pulumi.String(arn))
	}
	if b.args.SignIn != nil {
		readable = append(readable, b.args.SignIn.ClientSecretARNs[SignInClientName])
	}
	var err error
	b.store, err = secretsync.NewStore(b.ctx, b.name+"-secrets", &secretsync.StoreArgs{
		Operator: b.args.SecretSync, Namespace: b.cfg.Namespace, SecretARNs: readable, WaitFor: []pulumi.Resource{b.ns},
	}, b.parent)
	if err != nil {
		return err
	}
	return nil
}

// syncSecrets makes the Secrets Airflow reads, synced from Secrets Manager.
func (b *airflowBuild) syncSecrets() error {
	// Airflow's own login, not the RDS master user: RDS rotating the
	// master password does not reach Airflow.
	creds := []secretsync.Field{
		{Key: "username", SecretARN: b.args.Logins.ActiveSecretARN, Property: "username"},
		{Key: "password", SecretARN: b.args.Logins.ActiveSecretARN, Property: "password"},
	}
	sync := func(suffix, secretName string, fields []secretsync.Field, template map[string]pulumi.StringInput) error {
		rotating := ""
		if len(fields) > 0 && fields[0].SecretARN == b.args.Logins.ActiveSecretARN {
			rotating = b.args.Logins.Active
		}
		es, err := secretsync.NewExternalSecret(b.ctx, b.name+"-"+suffix, &secretsync.ExternalSecretArgs{
			Namespace: b.namespace, SecretName: secretName, Fields: fields, Template: template, Store: b.store,
			Credentials: rotating,
		}, b.parent)
		if err == nil {
			b.synced = append(b.synced, es)
		}
		return err
	}
	pgbouncerHost := fmt.Sprintf("%s-pgbouncer.%s", ReleaseName, b.cfg.Namespace)
	if err := sync("metadata", MetadataSecretName, creds, map[string]pulumi.StringInput{
		"connection": pulumi.String(fmt.Sprintf("postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@%s:%d/%s?sslmode=disable",
			pgbouncerHost, PgBouncerPort, PgBouncerDatabase)),
	}); err != nil {
		return err
	}
	if err := sync("pgbouncer-config", PgBouncerConfigSecretName, creds, map[string]pulumi.StringInput{
		"pgbouncer.ini": PgBouncerIni(b.args.Database.Address, b.args.Logins.DatabaseName, b.cfg.PgBouncerPoolSize),
		"users.txt":     pulumi.String(`"{{ .username }}" "{{ .password }}"` + "\n"),
	}); err != nil {
		return err
	}
	if err := sync("pgbouncer-stats", PgBouncerStatsSecretName, creds, map[string]pulumi.StringInput{
		"connection": pulumi.String(fmt.Sprintf("postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@127.0.0.1:%d/pgbouncer?sslmode=disable", PgBouncerPort)),
	}); err != nil {
		return err
	}
	platformFields := []secretsync.Field{}
	template := map[string]pulumi.StringInput{}
	keys := []string{secrets.AirflowFernetKey, secrets.AirflowAPISecretKey, secrets.AirflowJWTSecret}
	if b.args.SignIn == nil {
		keys = append(keys, secrets.AirflowAdminPassword)
	}
	for _, k := range keys {
		v := strings.ReplaceAll(k, "-", "_")
		platformFields = append(platformFields, secretsync.Field{Key: v, SecretARN: b.args.PlatformSecretARN, Property: k})
		template[k] = pulumi.String("{{ ." + v + " }}")
	}
	if err := sync("platform", PlatformSecretName, platformFields, template); err != nil {
		return err
	}
	if b.args.SignIn != nil {
		es, err := secretsync.NewExternalSecret(b.ctx, b.name+"-sso", &secretsync.ExternalSecretArgs{
			Namespace: b.namespace, SecretName: SSOSecretName, Store: b.store,
			Fields: []secretsync.Field{{Key: "client-secret", SecretARN: b.args.SignIn.ClientSecretARNs[SignInClientName]}},
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.args.SignIn.ClientSecretReady[SignInClientName]}))
		if err != nil {
			return err
		}
		b.synced = append(b.synced, es)
	}
	if arn := b.cfg.GitSync.CredentialsSecretARN; arn != "" {
		fields := []secretsync.Field{
			{Key: "username", SecretARN: pulumi.String(arn), Property: "username"},
			{Key: "password", SecretARN: pulumi.String(arn), Property: "password"},
		}
		// git-sync v4 reads GITSYNC_*, v3 GIT_SYNC_*; the chart supports both.
		if err := sync("git-credentials", GitCredentialsSecretName, fields, map[string]pulumi.StringInput{
			"GITSYNC_USERNAME": pulumi.String("{{ .username }}"), "GITSYNC_PASSWORD": pulumi.String("{{ .password }}"),
			"GIT_SYNC_USERNAME": pulumi.String("{{ .username }}"), "GIT_SYNC_PASSWORD": pulumi.String("{{ .password }}"),
		}); err != nil {
			return err
		}
	}

	return nil
}

// dependencies are what the release waits for.
func (b *airflowBuild) dependencies(launcher pulumi.Resource) ([]pulumi.Resource, error) {
	deps := append(append(append([]pulumi.Resource{b.ns, b.args.Database.Instance, launcher}, b.a.Role.Ready...), b.synced...), b.args.WaitFor...)
	deps = append(deps, b.policies...)
	deps = append(deps, b.a.TaskRole.Ready...)
	if b.args.LoginJob != nil {
		deps = append(deps, b.args.LoginJob)
	}
	if b.args.SnapshotBeforeUpgrade {
		snap, err := database.NewUpgradeSnapshot(b.ctx, b.name, b.args.Database, "airflow-"+b.cfg.ChartVersion, b.args.Tags, b.parent, pulumi.DependsOn(b.args.SnapshotAfter))
		if err != nil {
			return nil, err
		}
		deps = append(deps, snap)
	}
	if b.args.DagStorageClass != "" {
		claim, err := corev1.NewPersistentVolumeClaim(b.ctx, b.name+"-dags", &corev1.PersistentVolumeClaimArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(DagClaimName), Namespace: b.namespace},
			Spec: &corev1.PersistentVolumeClaimSpecArgs{
				AccessModes:      pulumi.ToStringArray([]string{"ReadWriteMany"}),
				StorageClassName: pulumi.String(b.args.DagStorageClass),
				// EFS is elastic; Kubernetes still wants a size.
				Resources: &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String("10Gi")}},
			},
		}, b.parent, pulumi.DependsOn(b.args.WaitFor))
		if err != nil {
			return nil, err
		}
		deps = append(deps, claim)
	}
	if b.args.SignIn != nil {
		// The sign-in pages must exist before users (or the load
		// balancer's authenticate action) are sent to them.
		deps = append(deps, b.args.SignIn.DomainReady)
	}
	for _, r := range []pulumi.Resource{b.args.LogBucketReady, b.args.LoadBalancerController, b.args.NodePool} {
		if r != nil {
			deps = append(deps, r)
		}
	}
	return deps, nil
}

// release installs the chart.
func (b *airflowBuild) release(deps []pulumi.Resource) (*helmv3.Release, error) {
	chart := charts.Path(b.args.ChartDir, charts.Airflow, b.cfg.ChartVersion)
	archive, err := charts.Read(b.ctx.RootDirectory(), chart)
	if err != nil {
		return nil, err
	}
	values := Values(b.cfg, b.args, RoleARNs{Control: b.a.Role.RoleARN, Tasks: b.a.TaskRole.RoleARN})
	if values.PodTemplate, err = TaskPodTemplate(archive); err != nil {
		return nil, fmt.Errorf("airflow %s: %w", b.name, err)
	}
	return helmv3.NewRelease(b.ctx, b.name, &helmv3.ReleaseArgs{
		Name:      pulumi.String(ReleaseName),
		Chart:     pulumi.String(chart),
		Version:   pulumi.String(b.cfg.ChartVersion),
		Namespace: b.namespace,
		// The migration job runs on install and upgrade.
		Timeout: pulumi.Int(1200),
		Values:  structmap.Map(values),
	}, b.parent, pulumi.DependsOn(deps))
}

// podLauncher lets the scheduler (the KubernetesExecutor) start and watch
// task pods, and returns the binding. The chart's own pod-launcher Role
// (allowPodLaunching, off) binds the workers' and the triggerer's accounts
// too, so task code could start pods that mount any Secret of the
// namespace; this Role is the chart's, bound to the scheduler alone.
func podLauncher(ctx *pulumi.Context, name string, namespace pulumi.StringInput, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	rule := func(resources, verbs []string) rbacv1.PolicyRuleInput {
		return &rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{""}), Resources: pulumi.ToStringArray(resources), Verbs: pulumi.ToStringArray(verbs)}
	}
	role, err := rbacv1.NewRole(ctx, name+"-pod-launcher", &rbacv1.RoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(PodLauncherRoleName), Namespace: namespace},
		Rules: rbacv1.PolicyRuleArray{
			rule([]string{"pods"}, []string{"create", "list", "get", "patch", "watch", "delete"}),
			rule([]string{"pods/log"}, []string{"get"}),
			rule([]string{"pods/exec"}, []string{"create", "get"}),
			rule([]string{"events"}, []string{"list", "watch"}),
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	return rbacv1.NewRoleBinding(ctx, name+"-pod-launcher", &rbacv1.RoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(PodLauncherRoleName), Namespace: namespace},
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{&rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(AWSComponents["scheduler"]), Namespace: namespace,
		}},
	}, parent)
}

// PodLauncherRoleName is the Role and RoleBinding that let the scheduler
// alone start task pods.
const PodLauncherRoleName = ReleaseName + "-scheduler-pod-launcher"

// PgBouncerCAFile is where the chart mounts pgbouncer.ssl.ca in PgBouncer's
// container (pgbouncer-deployment.yaml of chart 1.21.0).
const PgBouncerCAFile = "/etc/pgbouncer/root.crt"

// PgBouncerIni is the PgBouncer configuration, as an External Secrets
// template: the chart's own pgbouncer.ini with our database behind the
// "airflow-metadata" alias, TLS to RDS with the server's certificate and
// host name verified against RDS's CA (PgBouncerCAFile), and the app's
// login as the stats user. {{ .username }} is filled in by the operator.
func PgBouncerIni(host pulumi.StringInput, dbName string, poolSize int) pulumi.StringOutput {
	return pulumi.Sprintf(`[databases]
%s = host=%s dbname=%s port=%d pool_size=%d

[pgbouncer]
pool_mode = transaction
listen_port = %d
listen_addr = *
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/users.txt
stats_users = {{ .username }}
ignore_startup_parameters = extra_float_digits
max_client_conn = 200
verbose = 0
log_disconnections = 0
log_connections = 0
server_tls_sslmode = verify-full
server_tls_ca_file = %s
server_tls_ciphers = normal
`, PgBouncerDatabase, host, dbName, database.Port, poolSize, PgBouncerPort, PgBouncerCAFile)
}

// Size is what one container requests and the most memory it may use.
type Size = stackconfig.Size

// ComponentResources are the default sizes of Airflow's components
// (stackconfig.AirflowSizes); a stack overrides them in apps.airflow.resources.
var ComponentResources = stackconfig.AirflowSizes

func withoutPersistence(c Component) Component {
	c.Persistence = &Enabled{Enabled: false}
	return c
}

// availability is the PodDisruptionBudget and zone spread of a component
// with replicas pods labelled component=label: one pod at a time, spread
// across zones from two replicas up. A single replica may be evicted too
// (a drain restarts it on another node): a budget of none would hold its
// node until the NodePool's terminationGracePeriod (48 hours), and fail an
// EKS node group update after 15 minutes (see airbyte.MaxUnavailable).
func availability(replicas int, label string) (*PodDisruptionBudget, []TopologySpreadConstraint) {
	if replicas < 2 {
		return &PodDisruptionBudget{Enabled: true, Config: PDBConfig{MaxUnavailable: 1}}, nil
	}
	return &PodDisruptionBudget{Enabled: true, Config: PDBConfig{MaxUnavailable: 1}},
		[]TopologySpreadConstraint{{
			MaxSkew:           1,
			TopologyKey:       "topology.kubernetes.io/zone",
			WhenUnsatisfiable: "ScheduleAnyway",
			LabelSelector:     LabelSelector{MatchLabels: map[string]string{"component": label, "release": ReleaseName}},
		}}
}
