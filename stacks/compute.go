package stacks

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/components/karpenter"
)

// The compute layer: the cluster, its nodes and Karpenter.

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
		Region:            p.Env.Region,
		AccountID:         p.Env.AccountID,
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
