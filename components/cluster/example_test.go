package cluster_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/cluster"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// An EKS cluster in existing private subnets, administered by one role.
func ExampleNewCluster() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.NewCluster(ctx, "cluster", &cluster.ClusterArgs{
			Config: cluster.Config{
				KubernetesVersion: "1.35",
				AdminRoleARNs:     []string{"arn:aws:iam::123456789012:role/platform-admin"},
				Addons: cluster.Addons{
					VpcCni: "v1.21.1-eksbuild.7", CoreDNS: "v1.13.2-eksbuild.4", KubeProxy: "v1.35.3-eksbuild.2",
					EbsCsiDriver: "v1.58.0-eksbuild.1", MetricsServer: "v0.9.0-eksbuild.6", CloudWatchObservability: "v6.4.0-eksbuild.1",
				},
			},
			Name:             "analytics",
			VpcID:            pulumi.String("vpc-0e1d2c3b4a5968778"),
			PrivateSubnetIDs: pulumi.ToStringArray([]string{"subnet-0a1a1a1a1a1a1a1a1", "subnet-0b1b1b1b1b1b1b1b1"}),
		})
		if err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["eks:index:Cluster"], counts["aws:eks/nodeGroup:NodeGroup"], counts["aws:eks/addon:Addon"])
	// Output: <nil> 1 1 5
}
