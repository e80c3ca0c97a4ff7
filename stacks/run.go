package stacks

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/components/airflow"
	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/components/dagstorage"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/components/images"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/karpenter"
	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/network"
	"github.com/dataplatform/dataplatform/components/observability"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/components/storage"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// Platform holds the components of one stack, for programs that embed the
// whole platform and want more than the stack outputs.
type Platform struct {
	// Config is the stack's validated configuration.
	Config *Config
	// Network is the VPC the platform created; nil with an existing network.
	Network *network.Vpc
	// Net is the network every layer uses: created or existing.
	Net *network.Topology
	// Cluster is the EKS cluster.
	Cluster *cluster.Cluster
	// Kubernetes is the provider every Kubernetes resource of the platform
	// uses: built from the cluster, so nothing reads a local kubeconfig.
	Kubernetes *kubernetes.Provider
	// KarpenterAWS and KarpenterController are Karpenter's AWS and Kubernetes sides.
	KarpenterAWS        *karpenter.Infrastructure
	KarpenterController *karpenter.Controller
	// Secrets holds the platform KMS key and the generated secrets.
	Secrets *secrets.Secrets
	// SignIn is the Cognito user pool users sign in to both apps through
	// (nil when dataplatform:sso.enabled is false).
	SignIn *identity.SignIn
	// AirbyteBucket and AirflowLogBucket are the apps' buckets.
	AirbyteBucket, AirflowLogBucket *storage.Bucket
	// AirbyteDB and AirflowDB are the apps' PostgreSQL instances: the
	// same one with database.sharedInstance.
	AirbyteDB, AirflowDB *database.Postgres
	// AirbyteLogins and AirflowLogins are the apps' own database logins.
	AirbyteLogins, AirflowLogins *database.Logins
	// AirbyteRole and AirflowRole are the IRSA roles of the apps' own
	// components; AirbyteJobRole and AirflowTaskRole those of the pods that
	// run connector and task code.
	AirbyteRole, AirflowRole        *identity.IrsaRole
	AirbyteJobRole, AirflowTaskRole *identity.IrsaRole
	// SecretSync is the External Secrets Operator.
	SecretSync *secretsync.Operator
	// LoadBalancerController runs the apps' load balancers.
	LoadBalancerController *ingress.LoadBalancerController
	// Airbyte and Airflow are the apps.
	Airbyte *airbyte.Airbyte
	Airflow *airflow.Airflow
	// DagStorage is Airflow's EFS DAG volume, when configured.
	DagStorage *dagstorage.EFS
	// Monitoring is the metrics, logs and alarms; Images the ECR repositories.
	Monitoring *observability.Monitoring
	// Audit records management events and the data buckets' object access.
	Audit  *observability.AuditTrail
	Images *images.Repositories

	prefix string
}

// name is a logical resource name of this platform instance.
func (p *Platform) name(n string) string { return p.prefix + n }

// Run is the Pulumi program: main.go passes it to pulumi.Run. It checks
// this machine's tools (see Tools) with the config.
func Run(ctx *pulumi.Context) error { return RunWith(Machine{})(ctx) }

// RunWith returns the program for a deploying machine whose tools tools
// finds. Before anything is registered it checks, and reports at once,
// every missing tool, every config problem (spec.Parse), and the config
// against the account the deploy runs in (CheckAccount).
func RunWith(tools ToolFinder) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		var problems validate.Problems
		addAll := func(err error) error {
			var verr *validate.Error
			if !errors.As(err, &verr) {
				return err
			}
			for _, pr := range verr.Problems {
				problems.Addf(pr.Field, "%s", pr.Message)
			}
			return nil
		}
		if err := addAll(CheckTools(tools)); err != nil {
			return err
		}
		cfg, err := Load(ctx)
		if err := addAll(err); err != nil {
			return err
		}
		if cfg != nil {
			caller, err := aws.GetCallerIdentity(ctx, nil)
			if err != nil {
				return fmt.Errorf("looking up the AWS account: %w", err)
			}
			if err := addAll(CheckAccount(cfg, Caller{Account: caller.AccountId, ARN: caller.Arn}, ctx.DryRun())); err != nil {
				return err
			}
			warning, err := LoadCABundle(cfg, ctx.RootDirectory(), caller.AccountId, time.Now())
			if err := addAll(err); err != nil {
				return err
			}
			if warning != "" {
				if w, ok := tools.(Warner); ok {
					w.Warn(warning)
				}
				_ = ctx.Log.Warn(warning, nil)
			}
		}
		if err := problems.Err(); err != nil {
			return err
		}
		p, err := Deploy(ctx, cfg)
		if err != nil {
			return err
		}
		p.export(ctx)
		return nil
	}
}

// Deploy creates the platform described by a loaded Config.
func Deploy(ctx *pulumi.Context, cfg *Config) (*Platform, error) {
	return DeployInstance(ctx, cfg, "")
}

// DeployInstance creates one platform whose logical resource names start
// with prefix, so that one program can hold several platforms (give each its
// own cfg.Name too, as physical names derive from it). Deploy uses no prefix.
func DeployInstance(ctx *pulumi.Context, cfg *Config, prefix string) (*Platform, error) {
	p := &Platform{Config: cfg, prefix: prefix}
	tags := cfg.BaseTags()
	var err error
	if e := cfg.Network.Existing; e != nil {
		p.Net = network.ExistingTopology(*e, cfg.Network.AvailabilityZones)
		if p.Net.CIDRs, err = network.ExistingCIDRs(ctx, *e); err != nil {
			return nil, err
		}
	} else {
		p.Network, err = network.NewVpc(ctx, p.name("network"), &network.VpcArgs{
			Config:      cfg.Network,
			ClusterName: cfg.Name,
			Tags:        tags,
		})
		if err != nil {
			return nil, err
		}
		p.Net = p.Network.Topology()
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the AWS account: %w", err)
	}
	if err := p.deploySecretsAndStorage(ctx, caller.AccountId, tags); err != nil {
		return nil, err
	}
	if err := p.deployCompute(ctx, tags); err != nil {
		return nil, err
	}
	if err := p.deployData(ctx, caller.AccountId, tags); err != nil {
		return nil, err
	}
	if err := p.deployApps(ctx, caller.AccountId, tags); err != nil {
		return nil, err
	}
	if err := p.deployOperations(ctx, caller.AccountId, tags); err != nil {
		return nil, err
	}
	if err := p.deployPreviewRole(ctx, tags); err != nil {
		return nil, err
	}
	return p, nil
}

// deployApps installs the secret syncer, the load balancer controller,
// Airbyte and Airflow.
func (p *Platform) deployApps(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	k8s := pulumi.Providers(p.Kubernetes)
	core := map[string]string{cluster.CoreNodeLabelKey: cluster.CoreNodeLabelValue}
	tolerations := []map[string]string{cluster.CoreToleration}
	nodes := []pulumi.Resource{p.Cluster.CoreNodeGroup, p.Cluster.Addons["coredns"]}
	var err error
	p.SecretSync, err = secretsync.NewOperator(ctx, p.name("secret-sync"), &secretsync.OperatorArgs{
		Config:          cfg.Apps.SecretSync,
		Region:          cfg.Region,
		OIDCProviderARN: p.Cluster.OIDCProviderARN,
		OIDCIssuer:      p.Cluster.OIDCIssuer,
		KMSKeyARN:       p.Secrets.KeyARN,
		NodeSelector:    core,
		Tolerations:     tolerations,
		WaitFor:         nodes,
		Tags:            tags,
	}, k8s)
	if err != nil {
		return err
	}
	p.LoadBalancerController, err = ingress.NewLoadBalancerController(ctx, p.name("load-balancer-controller"), &ingress.ControllerArgs{
		Config:          cfg.Apps.Ingress,
		ClusterName:     cfg.Name,
		Region:          cfg.Region,
		AccountID:       account,
		VpcID:           p.Net.VpcID,
		OIDCProviderARN: p.Cluster.OIDCProviderARN,
		OIDCIssuer:      p.Cluster.OIDCIssuer,
		NodeSelector:    core,
		Tolerations:     tolerations,
		// The controller places load balancers in the subnets: it is
		// removed before them, after the load balancers it made.
		WaitFor: append(append([]pulumi.Resource{}, nodes...), p.Net.LoadBalancerSubnets...),
		Tags:    tags,
	}, k8s)
	if err != nil {
		return err
	}
	pool := p.KarpenterController.NodePools[0]
	loginJobs, err := p.deployLoginJobs(ctx, tolerations, nodes)
	if err != nil {
		return err
	}
	snapshot := *cfg.Database.SnapshotBeforeUpgrade
	var dagClass string
	var dagReady []pulumi.Resource
	if cfg.Apps.Airflow.DagsOnEFS {
		var subnets []pulumi.StringInput
		for i := range p.Net.AvailabilityZones {
			subnets = append(subnets, p.Net.PrivateSubnetIDs.Index(pulumi.Int(i)))
		}
		p.DagStorage, err = dagstorage.NewEFS(ctx, p.name("dag-storage"), &dagstorage.EFSArgs{
			ClusterName:           cfg.Name,
			OIDCProviderARN:       p.Cluster.OIDCProviderARN,
			OIDCIssuer:            p.Cluster.OIDCIssuer,
			AddonVersion:          cfg.Cluster.Addons.EfsCsiDriver,
			VpcID:                 p.Net.VpcID,
			SubnetIDs:             subnets,
			ClientSecurityGroupID: p.Cluster.NodeSecurityGroupID,
			KMSKeyARN:             p.Secrets.KeyARN,
			Nodes:                 nodes,
			Protect:               cfg.Storage.Protect,
			Tags:                  tags,
		}, k8s)
		if err != nil {
			return err
		}
		dagClass, dagReady = p.DagStorage.StorageClass, p.DagStorage.Ready
	}
	jobSelector, jobTolerations := cfg.Karpenter.Placement(cfg.Apps.Airbyte.JobNodePool)
	taskSelector, taskTolerations := cfg.Karpenter.Placement(cfg.Apps.Airflow.TaskNodePool)
	p.Airbyte, err = airbyte.NewAirbyte(ctx, p.name("airbyte"), &airbyte.AirbyteArgs{
		Config:                 cfg.Apps.Airbyte,
		Region:                 cfg.Region,
		Database:               p.AirbyteDB,
		Logins:                 p.AirbyteLogins,
		CABundle:               cfg.Database.CABundle,
		LoginJob:               loginJobs["airbyte"],
		BucketName:             p.AirbyteBucket.Name,
		BucketReady:            p.AirbyteBucket.Ready,
		Role:                   p.AirbyteRole,
		JobRole:                p.AirbyteJobRole,
		SignIn:                 p.SignIn,
		SessionHours:           cfg.SSO.SessionHours,
		KMSKeyARN:              p.Secrets.KeyARN,
		SecretSync:             p.SecretSync,
		Ingress:                cfg.Apps.Ingress,
		Network:                p.podNetwork(),
		LoadBalancerController: p.LoadBalancerController.Release,
		NodePool:               pool,
		SecretTags:             map[string]string{"Platform": cfg.Name},
		SnapshotBeforeUpgrade:  snapshot,
		Tags:                   tags,
		JobNodeSelector:        jobSelector,
		JobTolerations:         jobTolerations,
	}, k8s)
	if err != nil {
		return err
	}
	// On a shared instance the snapshots take turns (RDS takes one at a time).
	var snapshotAfter []pulumi.Resource
	if p.AirflowDB == p.AirbyteDB && p.Airbyte.Snapshot != nil {
		snapshotAfter = []pulumi.Resource{p.Airbyte.Snapshot}
	}
	p.Airflow, err = airflow.NewAirflow(ctx, p.name("airflow"), &airflow.AirflowArgs{
		Config:                 cfg.Apps.Airflow,
		Platform:               cfg.Name,
		Region:                 cfg.Region,
		Database:               p.AirflowDB,
		Logins:                 p.AirflowLogins,
		CABundle:               cfg.Database.CABundle,
		LoginJob:               loginJobs["airflow"],
		LogBucketName:          p.AirflowLogBucket.Name,
		LogBucketReady:         p.AirflowLogBucket.Ready,
		Role:                   p.AirflowRole,
		TaskRole:               p.AirflowTaskRole,
		TaskRetries:            spotRetries(cfg.Karpenter.Spot(cfg.Apps.Airflow.TaskNodePool)),
		SignIn:                 p.SignIn,
		PlatformSecretARN:      p.Secrets.AirflowSecretARN,
		SecretSync:             p.SecretSync,
		Ingress:                cfg.Apps.Ingress,
		Network:                p.podNetwork(),
		LoadBalancerController: p.LoadBalancerController.Release,
		NodePool:               pool,
		DagStorageClass:        dagClass,
		WaitFor:                dagReady,
		StatsdHost:             observability.StatsdHost,
		SnapshotBeforeUpgrade:  snapshot,
		SnapshotAfter:          snapshotAfter,
		Tags:                   tags,
		TaskNodeSelector:       taskSelector,
		TaskTolerations:        taskTolerations,
	}, k8s)
	return err
}

// podNetwork places the apps' peers outside the cluster by address, for
// their NetworkPolicies: the load balancers (in the ingress subnets, or the
// public ones for internet-facing), the databases, and the interface
// endpoints and API server (in the private subnets).
func (p *Platform) podNetwork() *netpol.Network {
	c := p.Net.CIDRs
	return &netpol.Network{LoadBalancers: c.LoadBalancers(p.Config.Apps.Ingress.Scheme), Database: c.Database, Endpoints: c.Private}
}

// spotRetries is how often a task on spot nodes is retried by default:
// twice, so that a reclaimed node does not fail the DAG run.
func spotRetries(spot bool) int {
	if spot {
		return 2
	}
	return 0
}

// DBAdminNamespace is where the jobs that make the apps' database logins
// run, apart from every app: only there are the RDS master credentials
// synced into the cluster.
const DBAdminNamespace = "db-admin"

// Databases are the platform's RDS instances: one per app, or the one they
// share (database.sharedInstance).
func (p *Platform) Databases() []*database.Postgres {
	if p.AirbyteDB == p.AirflowDB {
		return []*database.Postgres{p.AirbyteDB}
	}
	return []*database.Postgres{p.AirbyteDB, p.AirflowDB}
}

// deployLoginJobs makes the apps' logins in their databases and returns
// each app's job. The jobs run on the core nodes (with tolerations, waiting
// for nodes), which exist long before the apps' NodePools have nodes, so
// they finish while Karpenter installs.
func (p *Platform) deployLoginJobs(ctx *pulumi.Context, tolerations []map[string]string, nodes []pulumi.Resource) (map[string]pulumi.Resource, error) {
	k8s := pulumi.Providers(p.Kubernetes)
	ns, err := corev1.NewNamespace(ctx, p.name("db-admin"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(DBAdminNamespace)},
	}, k8s)
	if err != nil {
		return nil, err
	}
	// The only store that may read the RDS master credentials.
	var readable []pulumi.StringInput
	for _, db := range p.Databases() {
		readable = append(readable, db.MasterSecretARN)
	}
	for _, l := range []*database.Logins{p.AirbyteLogins, p.AirflowLogins} {
		for _, c := range database.Colors {
			readable = append(readable, l.SecretARNs[c])
		}
	}
	store, err := secretsync.NewStore(ctx, p.name("db-admin-secrets"), &secretsync.StoreArgs{
		Operator: p.SecretSync, Namespace: DBAdminNamespace, SecretARNs: readable, WaitFor: []pulumi.Resource{ns},
	}, k8s)
	if err != nil {
		return nil, err
	}
	ca, err := database.NewCAConfigMap(ctx, p.name("db-admin-rds-ca"), ns.Metadata.Name().Elem(), p.Config.Database.CABundle, k8s)
	if err != nil {
		return nil, err
	}
	// The login jobs reach the databases and nothing else.
	policies, err := netpol.New(ctx, p.name("db-admin"), ns.Metadata.Name().Elem(), database.LoginJobPolicies(p.Net.CIDRs.Database), k8s, pulumi.DependsOn([]pulumi.Resource{ns}))
	if err != nil {
		return nil, err
	}
	out := map[string]pulumi.Resource{}
	for _, app := range []struct {
		name      string
		logins    *database.Logins
		databases []string
	}{{"airbyte", p.AirbyteLogins, airbyte.TemporalDatabases}, {"airflow", p.AirflowLogins, nil}} {
		job, err := database.NewLoginJob(ctx, p.name(app.name+"-logins"), &database.LoginJobArgs{
			Logins: app.logins, Namespace: ns.Metadata.Name().Elem(), Store: store, CA: ca,
			MajorVersion: p.Config.Database.MajorVersion(), Databases: app.databases, CreateDatabases: len(app.databases) > 0,
			Tolerations: tolerations, WaitFor: append(append([]pulumi.Resource{}, nodes...), policies...),
		}, k8s)
		if err != nil {
			return nil, err
		}
		out[app.name] = job.Job
	}
	return out, nil
}

// deploySignIn creates the Cognito user pool of single sign-on, with an
// app client for each app whose callback is the app's address.
func (p *Platform) deploySignIn(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	if !cfg.SSO.Enabled {
		return nil
	}
	sso := cfg.SSO
	if sso.DomainPrefix == "" {
		// Unique across accounts: the name alone may be taken elsewhere.
		sso.DomainPrefix = cfg.Name + "-" + account
	}
	in := cfg.Apps.Ingress
	airflowURL, airbyteURL := in.URL(cfg.Apps.Airflow.Host), in.URL(cfg.Apps.Airbyte.Host)
	var err error
	p.SignIn, err = identity.NewSignIn(ctx, p.name("sso"), cfg.Region, &identity.SignInArgs{
		Config:   sso,
		Platform: cfg.Name,
		Apps: []identity.SignInApp{
			{Name: "airflow", CallbackURLs: []string{airflow.SSOCallbackURL(airflowURL)}, LogoutURLs: []string{airflowURL + "/"}, StoreSecret: true},
			{Name: "airbyte", CallbackURLs: []string{airbyte.SSOCallbackURL(airbyteURL)}, LogoutURLs: []string{airbyteURL + "/"}},
		},
		SecretPrefix:       cfg.Name + "/",
		KMSKeyARN:          p.Secrets.KeyARN,
		RecoveryWindowDays: *cfg.Secrets.RecoveryWindowDays,
		Tags:               tags,
	})
	return err
}

// deployOperations creates the audit trail, the monitoring (add-on, log groups, alarms,
// topic) and the image repositories.
func (p *Platform) deployOperations(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Audit, err = observability.NewAuditTrail(ctx, p.name("audit"), &observability.AuditTrailArgs{
		Platform: cfg.Name, Region: cfg.Region, AccountID: account,
		DataBucketARNs: []pulumi.StringInput{p.AirbyteBucket.ARN, p.AirflowLogBucket.ARN},
		KMSKeyARN:      p.Secrets.KeyARN,
		Storage:        cfg.Storage,
		Tags:           tags,
	})
	if err != nil {
		return err
	}
	p.Monitoring, err = observability.NewMonitoring(ctx, p.name("monitoring"), &observability.MonitoringArgs{
		Config:                cfg.Observability,
		ClusterName:           cfg.Name,
		OIDCProviderARN:       p.Cluster.OIDCProviderARN,
		OIDCIssuer:            p.Cluster.OIDCIssuer,
		AddonVersion:          cfg.Cluster.Addons.CloudWatchObservability,
		Nodes:                 []pulumi.Resource{p.Cluster.CoreNodeGroup},
		KMSKeyARN:             p.Secrets.KeyARN,
		Databases:             p.Databases(),
		InterruptionQueueName: p.KarpenterAWS.QueueName,
		Tags:                  tags,
	})
	if err != nil {
		return err
	}
	p.Images, err = images.NewRepositories(ctx, p.name("images"), &images.RepositoriesArgs{
		Config:    cfg.Images,
		Prefix:    cfg.Name,
		KMSKeyARN: p.Secrets.KeyARN,
		Protect:   cfg.Storage.Protect,
		Tags:      tags,
	})
	return err
}

// deploySecretsAndStorage creates the platform key, the generated secrets
// and the buckets. None of them waits for the network or the cluster.
func (p *Platform) deploySecretsAndStorage(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Secrets, err = secrets.NewSecrets(ctx, p.name("secrets"), &secrets.SecretsArgs{Config: cfg.Secrets, Prefix: cfg.Name, NoAdminPassword: cfg.SSO.Enabled, Tags: tags})
	if err != nil {
		return err
	}
	if err := p.deploySignIn(ctx, account, tags); err != nil {
		return err
	}
	// Bucket names are global: the account ID keeps them unique.
	p.AirbyteBucket, err = storage.NewBucket(ctx, p.name("airbyte-bucket"), &storage.BucketArgs{
		Config:      cfg.Storage,
		BucketName:  fmt.Sprintf("%s-airbyte-%s", cfg.Name, account),
		KMSKeyARN:   p.Secrets.KeyARN,
		LogPrefixes: []string{airbyte.LogPrefix},
		Tags:        tags,
	})
	if err != nil {
		return err
	}
	p.AirflowLogBucket, err = storage.NewBucket(ctx, p.name("airflow-log-bucket"), &storage.BucketArgs{
		Config:      cfg.Storage,
		BucketName:  fmt.Sprintf("%s-airflow-logs-%s", cfg.Name, account),
		KMSKeyARN:   p.Secrets.KeyARN,
		LogPrefixes: []string{""},
		Tags:        tags,
	})
	return err
}

// deployData creates each app's database and IRSA role.
func (p *Platform) deployData(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	var err error
	db := func(resource, label, dbName, master string) (*database.Postgres, error) {
		return database.NewPostgres(ctx, resource, &database.PostgresArgs{
			Config:                cfg.Database,
			Identifier:            cfg.Name + "-" + label,
			DatabaseName:          dbName,
			MasterUsername:        master,
			VpcID:                 p.Net.VpcID,
			SubnetIDs:             p.Net.DatabaseSubnetIDs,
			ClientSecurityGroupID: p.Cluster.NodeSecurityGroupID,
			KMSKeyARN:             p.Secrets.KeyARN,
			Tags:                  tags,
		})
	}
	if cfg.Database.SharedInstance {
		// One instance, no database of its own: each app's login job makes
		// the app's.
		shared, err := db(p.name("apps-db"), "apps", "", "platform_admin")
		if err != nil {
			return err
		}
		p.AirbyteDB, p.AirflowDB = shared, shared
	} else {
		if p.AirbyteDB, err = db(p.name("airbyte-db"), "airbyte", "airbyte", "airbyte"); err != nil {
			return err
		}
		if p.AirflowDB, err = db(p.name("airflow-db"), "airflow", "airflow", "airflow"); err != nil {
			return err
		}
	}
	logins := func(resource, app string, db *database.Postgres) (*database.Logins, error) {
		return database.NewLogins(ctx, resource, &database.LoginsArgs{
			Database: db, App: app, DatabaseName: app, SecretPrefix: cfg.Name + "/" + app, Generation: cfg.Database.LoginGeneration,
			KMSKeyARN: p.Secrets.KeyARN, RecoveryWindowDays: *cfg.Secrets.RecoveryWindowDays, Tags: tags,
		})
	}
	if p.AirbyteLogins, err = logins(p.name("airbyte-logins"), "airbyte", p.AirbyteDB); err != nil {
		return err
	}
	if p.AirflowLogins, err = logins(p.name("airflow-logins"), "airflow", p.AirflowDB); err != nil {
		return err
	}
	airbyteScope := airbyte.PolicyScope{Region: cfg.Region, AccountID: account, BucketARN: p.AirbyteBucket.ARN, KMSKeyARN: p.Secrets.KeyARN}
	airflowScope := airflow.PolicyScope{Region: cfg.Region, AccountID: account, Platform: cfg.Name, LogBucketARN: p.AirflowLogBucket.ARN, KMSKeyARN: p.Secrets.KeyARN}
	for _, r := range []struct {
		role        **identity.IrsaRole
		name, about string
		accounts    []identity.ServiceAccount
		policies    []identity.Policy
	}{
		{&p.AirbyteRole, "airbyte-role", "Airbyte's components", airbyte.ServiceAccounts(cfg.Apps.Airbyte.Namespace), airbyte.Policies(airbyteScope)},
		{&p.AirbyteJobRole, "airbyte-jobs-role", "Airbyte's connector jobs", airbyte.JobServiceAccounts(cfg.Apps.Airbyte.Namespace), airbyte.JobPolicies(airbyteScope)},
		{&p.AirflowRole, "airflow-role", "Airflow's control components", airflow.ServiceAccounts(cfg.Apps.Airflow.Namespace), airflow.Policies(airflowScope)},
		{&p.AirflowTaskRole, "airflow-tasks-role", "Airflow's task pods", airflow.TaskServiceAccounts(cfg.Apps.Airflow.Namespace), airflow.TaskPolicies(airflowScope)},
	} {
		role, err := identity.NewIrsaRole(ctx, p.name(r.name), &identity.IrsaRoleArgs{
			OIDCProviderARN: p.Cluster.OIDCProviderARN,
			OIDCIssuer:      p.Cluster.OIDCIssuer,
			ServiceAccounts: r.accounts,
			Policies:        r.policies,
			Description:     r.about + " of platform " + cfg.Name,
			Tags:            tags,
		})
		if err != nil {
			return err
		}
		*r.role = role
	}
	return nil
}

// deployCompute creates the EKS cluster, the Kubernetes provider and Karpenter.
func (p *Platform) deployCompute(ctx *pulumi.Context, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Cluster, err = cluster.NewCluster(ctx, p.name("cluster"), &cluster.ClusterArgs{
		Config:           cfg.Cluster,
		Name:             cfg.Name,
		VpcID:            p.Net.VpcID,
		PrivateSubnetIDs: p.Net.PrivateSubnetIDs,
		NodeDependencies: p.Net.EgressReady,
		Tags:             tags,
	})
	if err != nil {
		return err
	}
	// The provider authenticates as the deployer: everything it manages waits
	// for the deployer's access entry.
	p.Kubernetes, err = kubernetes.NewProvider(ctx, p.name("kubernetes"), &kubernetes.ProviderArgs{
		Kubeconfig:            p.Cluster.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, pulumi.DependsOn(p.Cluster.AdminAccess))
	if err != nil {
		return err
	}
	k8s := pulumi.Provider(p.Kubernetes)
	if _, err := cluster.NewDefaultStorageClass(ctx, p.name("default-storage-class"), k8s,
		pulumi.DependsOn([]pulumi.Resource{p.Cluster.Addons["aws-ebs-csi-driver"]})); err != nil {
		return err
	}
	p.KarpenterAWS, err = karpenter.NewInfrastructure(ctx, p.name("karpenter"), &karpenter.InfrastructureArgs{
		ClusterName:       cfg.Name,
		Namespace:         cfg.Karpenter.Namespace,
		OIDCProviderARN:   p.Cluster.OIDCProviderARN,
		OIDCIssuer:        p.Cluster.OIDCIssuer,
		ClusterDependency: p.Cluster.ControlPlane,
		Tags:              tags,
	})
	if err != nil {
		return err
	}
	p.KarpenterController, err = karpenter.NewController(ctx, p.name("karpenter"), &karpenter.ControllerArgs{
		Config:          cfg.Karpenter,
		ClusterName:     cfg.Name,
		ClusterEndpoint: p.Cluster.Endpoint,
		Infrastructure:  p.KarpenterAWS,
		NodeSelector:    map[string]string{cluster.CoreNodeLabelKey: cluster.CoreNodeLabelValue},
		WaitFor:         []pulumi.Resource{p.Cluster.ControlPlane, p.Cluster.CoreNodeGroup, p.Cluster.Addons["coredns"]},
		NodeTags:        tags,
	}, pulumi.Providers(p.Kubernetes))
	return err
}

func (p *Platform) export(ctx *pulumi.Context) {
	ctx.Export("region", pulumi.String(p.Config.Region))
	ctx.Export("name", pulumi.String(p.Config.Name))
	ctx.Export("vpcId", p.Net.VpcID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(p.Net.AvailabilityZones))
	ctx.Export("publicSubnetIds", p.Net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", p.Net.PrivateSubnetIDs)
	ctx.Export("databaseSubnetIds", p.Net.DatabaseSubnetIDs)
	ctx.Export("natGatewayIds", p.Net.NatGatewayIDs)
	ctx.Export("clusterName", p.Cluster.Name)
	ctx.Export("clusterEndpoint", p.Cluster.Endpoint)
	ctx.Export("oidcProviderArn", p.Cluster.OIDCProviderARN)
	ctx.Export("kubeconfig", p.Cluster.Kubeconfig)
	ctx.Export("karpenterQueueName", p.KarpenterAWS.QueueName)
	ctx.Export("platformKeyArn", p.Secrets.KeyARN)
	ctx.Export("airbyteBucket", p.AirbyteBucket.Name)
	ctx.Export("airflowLogBucket", p.AirflowLogBucket.Name)
	ctx.Export("airbyteDatabase", p.AirbyteDB.Address)
	ctx.Export("airflowDatabase", p.AirflowDB.Address)
	ctx.Export("airbyteDatabaseSecretArn", p.AirbyteDB.MasterSecretARN)
	ctx.Export("airflowDatabaseSecretArn", p.AirflowDB.MasterSecretARN)
	ctx.Export("airbyteRoleArn", p.AirbyteRole.RoleARN)
	ctx.Export("airflowRoleArn", p.AirflowRole.RoleARN)
	ctx.Export("airbyteJobRoleArn", p.AirbyteJobRole.RoleARN)
	ctx.Export("airflowTaskRoleArn", p.AirflowTaskRole.RoleARN)
	if p.SignIn != nil {
		ctx.Export("ssoUserPoolId", p.SignIn.PoolID)
		ctx.Export("ssoSignInDomain", pulumi.String(p.SignIn.HostedDomain()))
	}
	ctx.Export("airbyteUrl", p.Airbyte.URL)
	ctx.Export("airflowUrl", p.Airflow.URL)
	ctx.Export("alarmTopicArn", p.Monitoring.TopicARN)
	repos := pulumi.StringMap{}
	for name, url := range p.Images.URLs {
		repos[name] = url
	}
	ctx.Export("imageRepositories", repos)
}
