package stacks

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/components/karpenter"
	"github.com/dataplatform/dataplatform/components/network"
)

// Platform holds the components of one stack, for programs that embed the
// whole platform and want more than the stack outputs.
type Platform struct {
	Config  *Config
	Network *network.Vpc
	Cluster *cluster.Cluster
	// Kubernetes is the provider every Kubernetes resource of the platform
	// uses: built from the cluster, so nothing reads a local kubeconfig.
	Kubernetes          *kubernetes.Provider
	KarpenterAWS        *karpenter.Infrastructure
	KarpenterController *karpenter.Controller
}

// Run is the Pulumi program: main.go passes it to pulumi.Run.
func Run(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	p, err := Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	p.export(ctx)
	return nil
}

// Deploy creates the platform described by a loaded Config.
func Deploy(ctx *pulumi.Context, cfg *Config) (*Platform, error) {
	p := &Platform{Config: cfg}
	tags := cfg.BaseTags()
	var err error
	p.Network, err = network.NewVpc(ctx, "network", &network.VpcArgs{
		Config:      cfg.Network,
		ClusterName: cfg.Name,
		Tags:        tags,
	})
	if err != nil {
		return nil, err
	}
	if err := p.deployCompute(ctx, tags); err != nil {
		return nil, err
	}
	return p, nil
}

// deployCompute creates the EKS cluster, the Kubernetes provider and Karpenter.
func (p *Platform) deployCompute(ctx *pulumi.Context, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Cluster, err = cluster.NewCluster(ctx, "cluster", &cluster.ClusterArgs{
		Config:           cfg.Cluster,
		Name:             cfg.Name,
		VpcID:            p.Network.VpcID,
		PrivateSubnetIDs: p.Network.PrivateSubnetIDs,
		Tags:             tags,
	})
	if err != nil {
		return err
	}
	p.Kubernetes, err = kubernetes.NewProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{
		Kubeconfig:            p.Cluster.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}
	k8s := pulumi.Provider(p.Kubernetes)
	if _, err := cluster.NewDefaultStorageClass(ctx, "default-storage-class", k8s,
		pulumi.DependsOn([]pulumi.Resource{p.Cluster.Addons["aws-ebs-csi-driver"]})); err != nil {
		return err
	}
	p.KarpenterAWS, err = karpenter.NewInfrastructure(ctx, "karpenter", &karpenter.InfrastructureArgs{
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
	p.KarpenterController, err = karpenter.NewController(ctx, "karpenter", &karpenter.ControllerArgs{
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
	ctx.Export("vpcId", p.Network.VpcID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(p.Network.AvailabilityZones))
	ctx.Export("publicSubnetIds", p.Network.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", p.Network.PrivateSubnetIDs)
	ctx.Export("databaseSubnetIds", p.Network.DatabaseSubnetIDs)
	ctx.Export("natGatewayIds", p.Network.NatGatewayIDs)
	ctx.Export("clusterName", p.Cluster.Name)
	ctx.Export("clusterEndpoint", p.Cluster.Endpoint)
	ctx.Export("oidcProviderArn", p.Cluster.OIDCProviderARN)
	ctx.Export("kubeconfig", p.Cluster.Kubeconfig)
	ctx.Export("karpenterQueueName", p.KarpenterAWS.QueueName)
}
