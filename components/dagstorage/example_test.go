package dagstorage_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/dagstorage"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// An EFS volume for Airflow's DAGs, mounted in two private subnets.
func ExampleNewEFS() {
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		_, err = dagstorage.NewEFS(ctx, "dags", &dagstorage.EFSArgs{
			ClusterName:           "analytics",
			OIDCProviderARN:       pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:            pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			AddonVersion:          "v2.1.4-eksbuild.1",
			VpcID:                 pulumi.String("vpc-0e1d2c3b4a5968778"),
			SubnetIDs:             []pulumi.StringInput{pulumi.String("subnet-0a1a1a1a1a1a1a1a1"), pulumi.String("subnet-0b1b1b1b1b1b1b1b1")},
			ClientSecurityGroupID: pulumi.String("sg-0123456789abcdef0"),
			KMSKeyARN:             pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		}, pulumi.Providers(k8s))
		return err
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:efs/fileSystem:FileSystem"], counts["aws:efs/mountTarget:MountTarget"], counts["kubernetes:storage.k8s.io/v1:StorageClass"])
	// Output: <nil> 1 2 1
}
