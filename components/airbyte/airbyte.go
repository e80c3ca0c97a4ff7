package airbyte

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/internal/structmap"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// TypeToken is the Pulumi type of the Airbyte component.
const TypeToken = "dataplatform:airbyte:Airbyte"

// DatabaseSecretName is the Kubernetes Secret, synced from the RDS-managed
// master secret, with the keys the chart reads the credentials from.
const DatabaseSecretName = "airbyte-db-credentials"

// Keys of DatabaseSecretName (the chart's defaults).
const (
	DatabaseUserKey     = "DATABASE_USER"
	DatabasePasswordKey = "DATABASE_PASSWORD"
)

// AirbyteArgs are the inputs of NewAirbyte. Kubernetes resources use the
// provider given to the component.
type AirbyteArgs struct {
	// Config decides what is installed; see stackconfig.Airbyte for defaults.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts).
	ChartDir string
	// Region is the region of the bucket and of Secrets Manager. Required.
	Region string
	// Database is Airbyte's PostgreSQL instance. Required.
	Database *database.Postgres
	// Logins are Airbyte's own database logins; Airbyte connects with the
	// active one, never as the RDS master user. Required.
	Logins *database.Logins
	// LoginJob is the Job that makes the logins in the database (the Job
	// field of database.NewLoginJob's result, not the component, whose
	// master-credential secrets the app must not wait for); the release
	// waits for it.
	LoginJob pulumi.Resource
	// BucketName is Airbyte's bucket; BucketReady is its last setting. Required.
	BucketName  pulumi.StringInput
	BucketReady pulumi.Resource
	// BucketARN is the bucket's ARN, which the IRSA roles are scoped to. Required.
	BucketARN pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's IAM OIDC provider
	// (as in identity.IrsaRoleArgs): the component's IRSA roles trust its
	// service accounts through it. Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// AccountID is the AWS account, which scopes the roles' Secrets Manager
	// permissions. Required.
	AccountID string
	// Platform names the platform in the roles' descriptions.
	Platform string
	// SignIn, when set, puts Airbyte behind the load balancer's Cognito
	// authentication (an app client named "airbyte"), and turns Airbyte's
	// own single-admin login off.
	SignIn *identity.SignIn
	// SessionHours is how long a sign-in lasts (the load balancer's
	// session cookie); default 8.
	SessionHours int
	// CABundle is RDS's certificate authorities (PEM): every component
	// that connects to the database verifies it against them. Required.
	CABundle string
	// KMSKeyARN encrypts the connector secrets Airbyte writes. Required.
	KMSKeyARN pulumi.StringInput
	// SecretSync is the operator; Airbyte's namespace gets a SecretStore
	// of its own that reads only Airbyte's logins. Required.
	SecretSync *secretsync.Operator
	// Ingress configures the load balancer; LoadBalancerController must run first.
	Ingress ingress.Config
	// Network places the load balancers, databases and endpoints by
	// address, for the namespace's NetworkPolicies (NetworkPolicies). Nil
	// creates none: the namespace's pods then reach, and are reached by,
	// every pod of the cluster.
	Network                *netpol.Network
	LoadBalancerController pulumi.Resource
	// NodePool is a Karpenter NodePool the workloads can land on.
	NodePool pulumi.Resource
	// SecretTags are added to every connector secret Airbyte creates.
	SecretTags map[string]string
	// SnapshotBeforeUpgrade takes a manual snapshot of the database, named
	// after the chart version, before the release is installed or upgraded:
	// Airbyte's migrations are one-way.
	SnapshotBeforeUpgrade bool
	// Tags are put on the AWS resources the component creates (snapshots).
	Tags map[string]string
	// JobNodeSelector and JobTolerations place sync job pods (such as on a
	// spot NodePool); see karpenter.Placement.
	JobNodeSelector map[string]string
	JobTolerations  []map[string]string
}

// Airbyte is the installed Airbyte. Create it with NewAirbyte.
type Airbyte struct {
	pulumi.ResourceState

	// Release is the Helm release.
	Release *helmv3.Release
	// URL is the web app's address.
	URL pulumi.StringOutput `pulumi:"url"`
	// Role is the IRSA role of Airbyte's own components (Policies); JobRole
	// that of the job pods, which run connector code (JobPolicies).
	Role, JobRole *identity.IrsaRole
	// Snapshot is the snapshot taken before the release, or nil
	// (SnapshotBeforeUpgrade). On an instance shared with another app, make
	// that app's snapshot wait for it (AirflowArgs.SnapshotAfter): RDS
	// takes one snapshot of an instance at a time.
	Snapshot *rds.Snapshot
}

// NewAirbyte installs Airbyte into its namespace.
func NewAirbyte(ctx *pulumi.Context, name string, args *AirbyteArgs, opts ...pulumi.ResourceOption) (*Airbyte, error) {
	if args == nil {
		args = &AirbyteArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.Database == nil || args.Logins == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil || args.AccountID == "" || args.SecretSync == nil || args.BucketName == nil || args.BucketARN == nil || args.KMSKeyARN == nil || args.Region == "" || args.CABundle == "" {
		problems.Addf("args", "database, logins, oidcProviderArn, oidcIssuer, accountId, secretSync, bucketName, bucketArn, kmsKeyArn, region and caBundle are required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	a := &Airbyte{}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	b := &airbyteBuild{ctx: ctx, name: name, cfg: cfg, args: args, a: a, parent: pulumi.Parent(a)}
	if err := b.roles(); err != nil {
		return nil, err
	}
	if err := b.namespaceAndPolicies(); err != nil {
		return nil, err
	}
	accounts, err := serviceAccounts(ctx, name, b.namespace, a, b.parent)
	if err != nil {
		return nil, err
	}
	if err := b.secrets(); err != nil {
		return nil, err
	}
	deps, err := b.dependencies(accounts)
	if err != nil {
		return nil, err
	}
	if err := b.budgets(); err != nil {
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

// airbyteBuild is NewAirbyte's work in named steps.
type airbyteBuild struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	args   *AirbyteArgs
	a      *Airbyte
	parent pulumi.ResourceOption

	ns        *corev1.Namespace
	namespace pulumi.StringOutput
	policies  []pulumi.Resource
	dbSecret  pulumi.Resource
	ca        pulumi.Resource
}

// namespaceAndPolicies makes the namespace and its NetworkPolicies.
func (b *airbyteBuild) namespaceAndPolicies() error {
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

// secrets makes the namespace's SecretStore (the logins only), the
// database Secret synced from the active login, and the RDS CA ConfigMap.
func (b *airbyteBuild) secrets() error {
	var loginARNs []pulumi.StringInput
	for _, c := range database.Colors {
		loginARNs = append(loginARNs, b.args.Logins.SecretARNs[c])
	}
	store, err := secretsync.NewStore(b.ctx, b.name+"-secrets", &secretsync.StoreArgs{
		Operator: b.args.SecretSync, Namespace: b.cfg.Namespace, SecretARNs: loginARNs, WaitFor: []pulumi.Resource{b.ns},
	}, b.parent)
	if err != nil {
		return err
	}
	b.dbSecret, err = secretsync.NewExternalSecret(b.ctx, b.name+"-db", &secretsync.ExternalSecretArgs{
		Namespace:  b.namespace,
		SecretName: DatabaseSecretName,
		Fields: []secretsync.Field{
			{Key: "username", SecretARN: b.args.Logins.ActiveSecretARN, Property: "username"},
			{Key: "password", SecretARN: b.args.Logins.ActiveSecretARN, Property: "password"},
		},
		Credentials: b.args.Logins.Active,
		Template: map[string]pulumi.StringInput{
			DatabaseUserKey:     pulumi.String("{{ .username }}"),
			DatabasePasswordKey: pulumi.String("{{ .password }}"),
		},
		Store: store,
	}, b.parent)
	if err != nil {
		return err
	}

	b.ca, err = database.NewCAConfigMap(b.ctx, b.name+"-rds-ca", b.namespace, b.args.CABundle, b.parent)
	if err != nil {
		return err
	}
	return err
}

// dependencies are what the release waits for.
func (b *airbyteBuild) dependencies(accounts []pulumi.Resource) ([]pulumi.Resource, error) {
	deps := append(append([]pulumi.Resource{b.ns, b.dbSecret, b.ca, b.args.Database.Instance}, accounts...), b.a.Role.Ready...)
	deps = append(deps, b.policies...)
	deps = append(deps, b.a.JobRole.Ready...)
	if b.args.LoginJob != nil {
		deps = append(deps, b.args.LoginJob)
	}
	if b.args.SnapshotBeforeUpgrade {
		snap, err := database.NewUpgradeSnapshot(b.ctx, b.name, b.args.Database, "airbyte-"+b.cfg.ChartVersion, b.args.Tags, b.parent)
		if err != nil {
			return nil, err
		}
		b.a.Snapshot = snap
		deps = append(deps, snap)
	}
	if b.args.SignIn != nil {
		// The sign-in pages must exist before users (or the load
		// balancer's authenticate action) are sent to them.
		deps = append(deps, b.args.SignIn.DomainReady)
	}
	for _, r := range []pulumi.Resource{b.args.BucketReady, b.args.LoadBalancerController, b.args.NodePool} {
		if r != nil {
			deps = append(deps, r)
		}
	}
	return deps, nil
}

// budgets makes the PodDisruptionBudgets the chart lacks.
func (b *airbyteBuild) budgets() error {
	// The chart has no PodDisruptionBudgets: every long-running component
	// gets ours, matching its replicas (see MaxUnavailable).
	for _, component := range LongRunning {
		replicas := map[string]int{"server": b.cfg.ServerReplicas, "workload-launcher": b.cfg.WorkloadLauncherReplicas}[component]
		if replicas == 0 {
			replicas = 1
		}
		if _, err := policyv1.NewPodDisruptionBudget(b.ctx, b.name+"-"+component, &policyv1.PodDisruptionBudgetArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("airbyte-" + component), Namespace: b.namespace},
			Spec: &policyv1.PodDisruptionBudgetSpecArgs{
				MaxUnavailable: pulumi.Int(MaxUnavailable(replicas)),
				Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(PodLabels(component))},
			},
		}, b.parent); err != nil {
			return err
		}
	}
	return nil
}

// release installs the chart.
func (b *airbyteBuild) release(deps []pulumi.Resource) (*helmv3.Release, error) {
	return helmv3.NewRelease(b.ctx, b.name, &helmv3.ReleaseArgs{
		Name:      pulumi.String("airbyte"),
		Chart:     pulumi.String(charts.Path(b.args.ChartDir, charts.Airbyte, b.cfg.ChartVersion)),
		Version:   pulumi.String(b.cfg.ChartVersion),
		Namespace: b.namespace,
		// The bootloader migrates the database on install and upgrade.
		Timeout: pulumi.Int(1800),
		Values:  structmap.Map(Values(b.cfg, b.args)),
	}, b.parent, pulumi.DependsOn(deps))
}

// ingressAnnotations are the load balancer's settings of Airbyte's
// ingress; with single sign-on, its rules first authenticate through the
// Cognito user pool (the load balancer controller's auth-* annotations), so
// nobody reaches the web app or the API through the load balancer without
// signing in.
func ingressAnnotations(args *AirbyteArgs) map[string]pulumi.StringInput {
	out := map[string]pulumi.StringInput{}
	for k, v := range ingress.Annotations(args.Ingress.WithDefaults(), "/api/v1/health") {
		out[k] = pulumi.String(v)
	}
	s := args.SignIn
	if s == nil {
		return out
	}
	out["alb.ingress.kubernetes.io/auth-type"] = pulumi.String("cognito")
	out["alb.ingress.kubernetes.io/auth-idp-cognito"] = pulumi.Sprintf(`{"userPoolARN":"%s","userPoolClientID":"%s","userPoolDomain":"%s"}`,
		s.PoolARN, s.Clients[SignInClientName].ID(), s.Domain)
	out["alb.ingress.kubernetes.io/auth-on-unauthenticated-request"] = pulumi.String("authenticate")
	out["alb.ingress.kubernetes.io/auth-scope"] = pulumi.String("openid email")
	out["alb.ingress.kubernetes.io/auth-session-cookie"] = pulumi.String("AWSELBAuthSessionCookie")
	hours := args.SessionHours
	if hours == 0 {
		hours = 8
	}
	out["alb.ingress.kubernetes.io/auth-session-timeout"] = pulumi.String(fmt.Sprint(hours * 3600))
	return out
}

// authEnabled is Airbyte's own login: off behind single sign-on (nil keeps
// the chart's default, on).
func authEnabled(args *AirbyteArgs) *bool {
	if args.SignIn == nil {
		return nil
	}
	off := false
	return &off
}

// SignInClientName is the name of Airbyte's app client in a sign-in
// (identity.SignIn.Clients).
const SignInClientName = "airbyte"

// SignInClient is the app client Airbyte needs in the sign-in
// (identity.SignInArgs.Apps) when it is served at url (ingress.URL): the
// load balancer authenticates users, so Cognito sends them back to its
// callback and, after signing out, to the web app; the load balancer reads
// the client's secret from Cognito itself, so it is not stored.
func SignInClient(url string) identity.SignInApp {
	return identity.SignInApp{Name: SignInClientName, CallbackURLs: []string{SSOCallbackURL(url)}, LogoutURLs: []string{url + "/"}}
}

// SSOCallbackURL is where Cognito sends users back to the load balancer.
func SSOCallbackURL(baseURL string) string {
	return strings.TrimSuffix(baseURL, "/") + "/oauth2/idpresponse"
}

// serviceAccounts creates Airbyte's two service accounts, the platform's
// and the jobs', and the platform's Role and RoleBinding, and returns the
// accounts and the binding. The accounts are ours, not the chart's: the chart
// creates its own only at first install (a pre-install hook), so a changed
// role ARN would never reach it. With serviceAccount.create false the chart
// also skips the Role and RoleBinding, so they are here, with the chart's
// rules. The jobs' account is bound to nothing: connector code gets no
// Kubernetes permissions, so it can neither read the namespace's Secrets
// nor start pods that mount them.
func serviceAccounts(ctx *pulumi.Context, name string, namespace pulumi.StringInput, a *Airbyte, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(ServiceAccountName),
			Namespace:   namespace,
			Annotations: pulumi.StringMap{identity.RoleARNAnnotation: a.Role.RoleARN},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	jobs, err := corev1.NewServiceAccount(ctx, name+"-jobs", &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(JobServiceAccountName),
			Namespace:   namespace,
			Annotations: pulumi.StringMap{identity.RoleARNAnnotation: a.JobRole.RoleARN},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	role, err := rbacv1.NewRole(ctx, name, &rbacv1.RoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ServiceAccountName + "-role"), Namespace: namespace},
		// The chart's rules (apiGroups "*"), with the groups named: the
		// core group, and batch for jobs.
		Rules: rbacv1.PolicyRuleArray{
			&rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray([]string{""}),
				Resources: pulumi.ToStringArray([]string{"pods", "pods/log", "pods/exec", "pods/attach", "secrets", "configmaps", "endpoints"}),
				Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch", "create", "update", "patch", "delete"}),
			},
			&rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray([]string{"batch"}),
				Resources: pulumi.ToStringArray([]string{"jobs"}),
				Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch", "create", "update", "patch", "delete"}),
			},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	binding, err := rbacv1.NewRoleBinding(ctx, name, &rbacv1.RoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ServiceAccountName + "-binding"), Namespace: namespace},
		RoleRef:  &rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{&rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: namespace,
		}},
	}, parent)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{sa, jobs, binding}, nil
}

// JDBCParams make the Java services' JDBC driver verify the server
// (sslmode verify-full: the chain to RDS's CA, and the host name) against
// the bundle mounted at database.CAFile.
const JDBCParams = "?sslmode=verify-full&sslrootcert=" + database.CAFile

// TemporalTLS are Temporal's variables for verified TLS that the chart
// does not set: the server reads SQL_CA and SQL_HOST_VERIFICATION
// (config_template.yaml of temporalio/temporal 1.27: sslmode verify-full
// with sslrootcert), the auto-setup schema tool POSTGRES_TLS_CA_FILE. The
// chart sets SQL_TLS_ENABLED itself, and the two *_DISABLE_HOST_VERIFICATION
// come from TemporalHostVerification: none is given twice (plan check
// k8s/env-unique).
var TemporalTLS = map[string]string{
	"SQL_CA":                database.CAFile,
	"SQL_HOST_VERIFICATION": "true",
	"POSTGRES_TLS_CA_FILE":  database.CAFile,
}

// TemporalHostVerification turns host verification on where the chart
// hard-codes it off for an external database (through the project's patch
// of the chart, charts/patches/airbyte-2.2.0.patch).
var TemporalHostVerification = TemporalDatabaseValues{TLSDisableHostVerification: "false", SQLTLSDisableHostVerification: "false"}

// verifyDatabase makes every component that connects to the database
// verify its certificate: the chart builds DATABASE_URL (and the replica
// URL) as jdbc:postgresql://host:port/name and offers no parameters, so
// the parameters ride on the database name, which only that URL and the
// enterprise edition's Keycloak read; each such component mounts the
// bundle; Temporal gets its variables.
func verifyDatabase(v *ChartValues) {
	v.Global.Database.Name += JDBCParams
	volumes := []map[string]any{database.CAVolume()}
	mounts := []map[string]any{database.CAVolumeMount()}
	v.Server.ExtraVolumes, v.Server.ExtraVolumeMounts = volumes, mounts
	v.WorkloadLauncher.ExtraVolumes, v.WorkloadLauncher.ExtraVolumeMounts = volumes, mounts
	for _, c := range []*PodValues{&v.Worker, &v.WorkloadAPIServer, &v.Cron, &v.Bootloader, &v.Temporal} {
		c.ExtraVolumes, c.ExtraVolumeMounts = volumes, mounts
	}
	v.Bootloader.ExtraVolumeMount = true
	v.Temporal.EnvVars = TemporalTLS
	v.Temporal.Database = &TemporalHostVerification
}

func secretTags(extra map[string]string) []Tag {
	tags := []Tag{{Key: ManagedTag, Value: "true"}}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != ManagedTag {
			tags = append(tags, Tag{Key: k, Value: extra[k]})
		}
	}
	return tags
}

// DoNotDisrupt is Karpenter's annotation that keeps a node from voluntary
// disruption (consolidation, drift) while the annotated pod runs.
const DoNotDisrupt = "karpenter.sh/do-not-disrupt"

// LongRunning are Airbyte's long-running components (the chart's component
// names), which syncs depend on; each gets a PodDisruptionBudget.
var LongRunning = []string{"server", "worker", "workload-api-server", "workload-launcher", "cron", "temporal", "manifest-server"}

// MaxUnavailable is the disruption budget of a component with replicas
// pods: one at a time, whatever the replicas. A single replica may be
// evicted too (its Deployment starts it again on another node): a budget
// of none would hold its node until the NodePool's terminationGracePeriod
// (48 hours) forces it, and fail an EKS node group update, which gives up
// after 15 minutes of refused evictions.
func MaxUnavailable(replicas int) int {
	return 1
}

// Size is what one container requests and the most memory it may use.
type Size = stackconfig.Size

// ComponentResources are the default sizes of Airbyte's components
// (stackconfig.AirbyteSizes); a stack overrides them in apps.airbyte.resources.
var ComponentResources = stackconfig.AirbyteSizes

// JobContainerResources size the containers of job pods besides the
// connector's main container in syncs (stackconfig.Airbyte.Jobs): the connector
// in check and discover pods, the sync pods' orchestrator, and the
// sidecar of check, discover and spec pods.
var JobContainerResources = map[string]ContainerResources{
	"check":       {CPU: RequestLimit{Request: "100m", Limit: "1"}, Memory: RequestLimit{Request: "512Mi", Limit: "1Gi"}},
	"discover":    {CPU: RequestLimit{Request: "100m", Limit: "1"}, Memory: RequestLimit{Request: "512Mi", Limit: "1Gi"}},
	"replication": {CPU: RequestLimit{Request: "250m", Limit: "1"}, Memory: RequestLimit{Request: "1Gi", Limit: "2Gi"}},
	"sidecar":     {CPU: RequestLimit{Request: "50m", Limit: "500m"}, Memory: RequestLimit{Request: "128Mi", Limit: "512Mi"}},
}

// PodLabels are the labels the chart puts on a component's pods (its
// airbyte.selectorLabels helper), for release "airbyte".
func PodLabels(component string) map[string]string {
	return map[string]string{
		"airbyte":                    component,
		"app.kubernetes.io/name":     component,
		"app.kubernetes.io/instance": "airbyte",
	}
}
