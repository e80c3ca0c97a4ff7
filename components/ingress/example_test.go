package ingress_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// The AWS Load Balancer Controller, told its cluster, region and VPC.
func ExampleNewLoadBalancerController() {
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		_, err = ingress.NewLoadBalancerController(ctx, "lbc", &ingress.ControllerArgs{
			Config:          ingress.Config{ChartVersion: "3.5.0"},
			ClusterName:     "analytics",
			Region:          "us-east-1",
			AccountID:       "123456789012",
			VpcID:           pulumi.String("vpc-0e1d2c3b4a5968778"),
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
		}, pulumi.Providers(k8s))
		return err
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:helm.sh/v3:Release"], counts["aws:iam/role:Role"])
	// Output: <nil> 1 1
}
