package stacks

import (
	"errors"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
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
	// Env is where it is deployed: account, region, zones, CA bundle.
	Env *Environment
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
	// DBAdmin makes the logins, in a namespace of its own (DBAdminNamespace).
	DBAdmin *database.Admin
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
// every missing tool, every config problem (stackconfig.Parse), and the config
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
		var env *Environment
		if cfg != nil {
			env, err = ResolveEnvironment(ctx, cfg, ctx.RootDirectory(), time.Now())
			if err := addAll(err); err != nil {
				return err
			}
			if err := addAll(CheckAccount(cfg, env.Caller, ctx.DryRun())); err != nil {
				return err
			}
		}
		if err := problems.Err(); err != nil {
			return err
		}
		for _, warning := range env.warnings() {
			if w, ok := tools.(Warner); ok {
				w.Warn(warning)
			}
			_ = ctx.Log.Warn(warning, nil)
		}
		p, err := Deploy(ctx, cfg, env)
		if err != nil {
			return err
		}
		p.export(ctx)
		return nil
	}
}

// Deploy creates the platform described by a loaded Config in the
// environment ResolveEnvironment found.
func Deploy(ctx *pulumi.Context, cfg *Config, env *Environment) (*Platform, error) {
	return DeployInstance(ctx, cfg, env, "")
}

// DeployInstance creates one platform whose logical resource names start
// with prefix, so that one program can hold several platforms (give each its
// own cfg.Name too, as physical names derive from it). Deploy uses no prefix.
func DeployInstance(ctx *pulumi.Context, cfg *Config, env *Environment, prefix string) (*Platform, error) {
	p := &Platform{Config: cfg, Env: env, prefix: prefix}
	tags := cfg.BaseTags()
	var err error
	if e := cfg.Network.Existing; e != nil {
		p.Net = network.ExistingTopology(*e, env.Zones)
		if p.Net.CIDRs, err = network.ExistingCIDRs(ctx, *e); err != nil {
			return nil, err
		}
	} else {
		p.Network, err = network.NewVpc(ctx, p.name("network"), &network.VpcArgs{
			Config:            cfg.Network,
			ClusterName:       cfg.Name,
			Region:            env.Region,
			AccountID:         env.AccountID,
			AvailabilityZones: env.Zones,
			Tags:              tags,
		})
		if err != nil {
			return nil, err
		}
		p.Net = p.Network.Topology()
	}
	if err := p.deploySecretsAndStorage(ctx, env.AccountID, tags); err != nil {
		return nil, err
	}
	if err := p.deployCompute(ctx, tags); err != nil {
		return nil, err
	}
	if err := p.deployData(ctx, tags); err != nil {
		return nil, err
	}
	if err := p.deployApps(ctx, env.AccountID, tags); err != nil {
		return nil, err
	}
	if err := p.deployOperations(ctx, env.AccountID, tags); err != nil {
		return nil, err
	}
	if err := p.deployPreviewRole(ctx, tags); err != nil {
		return nil, err
	}
	return p, nil
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
