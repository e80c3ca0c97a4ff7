package karpenter_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/karpenter"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Karpenter's AWS side for the cluster "analytics".
func ExampleNewInfrastructure() {
	program := func(ctx *pulumi.Context) error {
		infra, err := karpenter.NewInfrastructure(ctx, "karpenter", &karpenter.InfrastructureArgs{
			ClusterName:     "analytics",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			Region:          "us-east-1",
			AccountID:       "123456789012",
		})
		if err != nil {
			return err
		}
		ctx.Export("queue", infra.QueueName)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:sqs/queue:Queue"], counts["aws:cloudwatch/eventRule:EventRule"], counts["aws:eks/accessEntry:AccessEntry"])
	// Output: <nil> 1 5 1
}

// Karpenter itself, with one spot-first node pool, on a cluster reached
// through the given Kubernetes provider.
func ExampleNewController() {
	program := func(ctx *pulumi.Context) error {
		infra, err := karpenter.NewInfrastructure(ctx, "karpenter", &karpenter.InfrastructureArgs{
			ClusterName:     "analytics",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			Region:          "us-east-1",
			AccountID:       "123456789012",
		})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		_, err = karpenter.NewController(ctx, "karpenter", &karpenter.ControllerArgs{
			Config: karpenter.Config{
				ChartVersion: "1.14.1",
				NodePools:    []karpenter.NodePool{{Name: "default", CapacityTypes: []string{"spot", "on-demand"}, CPULimit: 64}},
			},
			ClusterName:     "analytics",
			ClusterEndpoint: pulumi.String("https://EXAMPLE.gr7.us-east-1.eks.amazonaws.com"),
			Infrastructure:  infra,
		}, pulumi.Providers(k8s))
		return err
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:helm.sh/v3:Release"], counts["kubernetes:karpenter.sh/v1:NodePool"])
	// Output: <nil> 2 1
}
