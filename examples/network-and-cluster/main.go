// Command network-and-cluster is an example program that uses two of the
// data platform's components on their own: a VPC and an EKS cluster in it,
// with Karpenter-ready subnets and a core node group.
//
//	pulumi config set adminRoleArn arn:aws:iam::123456789012:role/platform-admin
//	pulumi up
package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/components/network"
)

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	name := cfg.Get("clusterName")
	if name == "" {
		name = "analytics"
	}
	tags := map[string]string{"Project": ctx.Project(), "Environment": ctx.Stack(), "ManagedBy": "pulumi"}
	// Looked up once and passed to the components that need them.
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return err
	}

	vpc, err := network.NewVpc(ctx, "network", &network.VpcArgs{
		Config: network.Config{
			CidrBlock:          "10.40.0.0/16",
			AzCount:            2,
			NatStrategy:        network.NatSingle,
			InterfaceEndpoints: []network.Endpoint{},
		},
		ClusterName: name,
		Region:      region.Name,
		AccountID:   caller.AccountId,
		Tags:        tags,
	})
	if err != nil {
		return err
	}
	cl, err := cluster.NewCluster(ctx, "cluster", &cluster.ClusterArgs{
		Config: cluster.Config{
			KubernetesVersion: "1.35",
			AdminRoleARNs:     []string{cfg.Require("adminRoleArn")},
			Addons: cluster.Addons{
				VpcCni:                  "v1.21.1-eksbuild.7",
				CoreDNS:                 "v1.13.2-eksbuild.4",
				KubeProxy:               "v1.35.3-eksbuild.2",
				EbsCsiDriver:            "v1.58.0-eksbuild.1",
				MetricsServer:           "v0.9.0-eksbuild.6",
				CloudWatchObservability: "v6.4.0-eksbuild.1",
			},
		},
		Name:             name,
		VpcID:            vpc.VpcID,
		PrivateSubnetIDs: vpc.PrivateSubnetIDs,
		NodeDependencies: vpc.EgressReady,
		Tags:             tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("vpcId", vpc.VpcID)
	ctx.Export("clusterName", cl.Name)
	ctx.Export("oidcProviderArn", cl.OIDCProviderARN)
	ctx.Export("kubeconfig", cl.Kubeconfig)
	return nil
}
