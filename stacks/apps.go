package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/components/airflow"
	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/components/dagstorage"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/karpenter"
	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/observability"
	"github.com/dataplatform/dataplatform/components/secretsync"
)

// The apps layer: the controllers the apps need, Airbyte and Airflow.

// deployApps installs the secret syncer, the load balancer controller,
// Airbyte and Airflow.
func (p *Platform) deployApps(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	w := &appWiring{
		k8s:         pulumi.Providers(p.Kubernetes),
		core:        map[string]string{cluster.CoreNodeLabelKey: cluster.CoreNodeLabelValue},
		tolerations: []map[string]string{cluster.CoreToleration},
		nodes:       []pulumi.Resource{p.Cluster.CoreNodeGroup, p.Cluster.Addons["coredns"]},
		tags:        tags,
		account:     account,
		pool:        p.KarpenterController.NodePools[0],
		snapshot:    *cfg.Database.SnapshotBeforeUpgrade,
	}
	if err := p.deployAppControllers(ctx, w); err != nil {
		return err
	}
	var err error
	if w.loginJobs, err = p.deployLoginJobs(ctx, w.tolerations, w.nodes); err != nil {
		return err
	}
	if cfg.Apps.Airflow.DagsOnEFS {
		if err := p.deployDagStorage(ctx, w); err != nil {
			return err
		}
	}
	if err := p.deployAirbyte(ctx, w); err != nil {
		return err
	}
	return p.deployAirflow(ctx, w)
}

// appWiring is what the apps' components share: the Kubernetes provider,
// the core nodes' placement, the node pool, the login jobs.
type appWiring struct {
	k8s         pulumi.ResourceOption
	core        map[string]string
	tolerations []map[string]string
	nodes       []pulumi.Resource
	tags        map[string]string
	account     string
	pool        pulumi.Resource
	loginJobs   map[string]pulumi.Resource
	snapshot    bool
}

// deployAppControllers installs the External Secrets Operator and the
// AWS Load Balancer Controller on the core nodes.
func (p *Platform) deployAppControllers(ctx *pulumi.Context, w *appWiring) error {
	cfg := p.Config
	var err error
	p.SecretSync, err = secretsync.NewOperator(ctx, p.name("secret-sync"), &secretsync.OperatorArgs{
		Config:          cfg.Apps.SecretSync,
		Region:          cfg.Region,
		OIDCProviderARN: p.Cluster.OIDCProviderARN,
		OIDCIssuer:      p.Cluster.OIDCIssuer,
		KMSKeyARN:       p.Secrets.KeyARN,
		NodeSelector:    w.core,
		Tolerations:     w.tolerations,
		WaitFor:         w.nodes,
		Tags:            w.tags,
	}, w.k8s)
	if err != nil {
		return err
	}
	p.LoadBalancerController, err = ingress.NewLoadBalancerController(ctx, p.name("load-balancer-controller"), &ingress.ControllerArgs{
		Config:          cfg.Apps.Ingress,
		ClusterName:     cfg.Name,
		Region:          cfg.Region,
		AccountID:       w.account,
		VpcID:           p.Net.VpcID,
		OIDCProviderARN: p.Cluster.OIDCProviderARN,
		OIDCIssuer:      p.Cluster.OIDCIssuer,
		NodeSelector:    w.core,
		Tolerations:     w.tolerations,
		// The controller places load balancers in the subnets: it is
		// removed before them, after the load balancers it made.
		WaitFor: append(append([]pulumi.Resource{}, w.nodes...), p.Net.LoadBalancerSubnets...),
		Tags:    w.tags,
	}, w.k8s)
	if err != nil {
		return err
	}
	return nil
}

// deployDagStorage makes the EFS volume the DAGs live on.
func (p *Platform) deployDagStorage(ctx *pulumi.Context, w *appWiring) error {
	cfg := p.Config
	var err error
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
		Nodes:                 w.nodes,
		Protect:               cfg.Storage.Protect,
		Tags:                  w.tags,
	}, w.k8s)
	if err != nil {
		return err
	}
	return nil
}

// deployAirbyte installs Airbyte.
func (p *Platform) deployAirbyte(ctx *pulumi.Context, w *appWiring) error {
	cfg := p.Config
	var err error
	jobSelector, jobTolerations := karpenter.Placement(cfg.Karpenter, cfg.Apps.Airbyte.JobNodePool)
	p.Airbyte, err = airbyte.NewAirbyte(ctx, p.name("airbyte"), &airbyte.AirbyteArgs{
		Config:                 cfg.Apps.Airbyte,
		Region:                 cfg.Region,
		Database:               p.AirbyteDB,
		Logins:                 p.AirbyteLogins,
		CABundle:               p.Env.CABundle,
		LoginJob:               w.loginJobs["airbyte"],
		BucketName:             p.AirbyteBucket.Name,
		BucketARN:              p.AirbyteBucket.ARN,
		BucketReady:            p.AirbyteBucket.Ready,
		OIDCProviderARN:        p.Cluster.OIDCProviderARN,
		OIDCIssuer:             p.Cluster.OIDCIssuer,
		AccountID:              w.account,
		Platform:               cfg.Name,
		SignIn:                 p.SignIn,
		SessionHours:           cfg.SSO.SessionHours,
		KMSKeyARN:              p.Secrets.KeyARN,
		SecretSync:             p.SecretSync,
		Ingress:                cfg.Apps.Ingress,
		Network:                p.podNetwork(),
		LoadBalancerController: p.LoadBalancerController.Release,
		NodePool:               w.pool,
		SecretTags:             map[string]string{"Platform": cfg.Name},
		SnapshotBeforeUpgrade:  w.snapshot,
		Tags:                   w.tags,
		JobNodeSelector:        jobSelector,
		JobTolerations:         jobTolerations,
	}, w.k8s)
	if err != nil {
		return err
	}
	p.AirbyteRole, p.AirbyteJobRole = p.Airbyte.Role, p.Airbyte.JobRole
	return nil
}

// deployAirflow installs Airflow, after Airbyte's snapshot on a shared
// instance.
func (p *Platform) deployAirflow(ctx *pulumi.Context, w *appWiring) error {
	cfg := p.Config
	var err error
	taskSelector, taskTolerations := karpenter.Placement(cfg.Karpenter, cfg.Apps.Airflow.TaskNodePool)
	var dagClass string
	var dagReady []pulumi.Resource
	if p.DagStorage != nil {
		dagClass, dagReady = p.DagStorage.StorageClass, p.DagStorage.Ready
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
		CABundle:               p.Env.CABundle,
		LoginJob:               w.loginJobs["airflow"],
		LogBucketName:          p.AirflowLogBucket.Name,
		LogBucketReady:         p.AirflowLogBucket.Ready,
		LogBucketARN:           p.AirflowLogBucket.ARN,
		KMSKeyARN:              p.Secrets.KeyARN,
		OIDCProviderARN:        p.Cluster.OIDCProviderARN,
		OIDCIssuer:             p.Cluster.OIDCIssuer,
		AccountID:              w.account,
		TaskRetries:            spotRetries(karpenter.Spot(cfg.Karpenter, cfg.Apps.Airflow.TaskNodePool)),
		SignIn:                 p.SignIn,
		PlatformSecretARN:      p.Secrets.AirflowSecretARN,
		SecretSync:             p.SecretSync,
		Ingress:                cfg.Apps.Ingress,
		Network:                p.podNetwork(),
		LoadBalancerController: p.LoadBalancerController.Release,
		NodePool:               w.pool,
		DagStorageClass:        dagClass,
		WaitFor:                dagReady,
		StatsdHost:             observability.StatsdHost,
		SnapshotBeforeUpgrade:  w.snapshot,
		SnapshotAfter:          snapshotAfter,
		Tags:                   w.tags,
		TaskNodeSelector:       taskSelector,
		TaskTolerations:        taskTolerations,
	}, w.k8s)
	if err != nil {
		return err
	}
	p.AirflowRole, p.AirflowTaskRole = p.Airflow.Role, p.Airflow.TaskRole
	return nil
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
