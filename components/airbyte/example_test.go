package airbyte_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/components/storage"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Airbyte with its database, bucket, IRSA role and credentials sync.
func ExampleNewAirbyte() {
	program := func(ctx *pulumi.Context) error {
		oidcARN := pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
		issuer := pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
		key := pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")
		bucket, err := storage.NewBucket(ctx, "airbyte", &storage.BucketArgs{BucketName: "analytics-airbyte-123456789012", KMSKeyARN: key, LogPrefixes: []string{airbyte.LogPrefix}})
		if err != nil {
			return err
		}
		db, err := database.NewPostgres(ctx, "airbyte-db", &database.PostgresArgs{
			Config: database.Config{EngineVersion: "17"}, Identifier: "analytics-airbyte", DatabaseName: "airbyte", MasterUsername: "airbyte",
			VpcID: pulumi.String("vpc-0e1d2c3b4a5968778"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"}),
			ClientSecurityGroupID: pulumi.String("sg-0123456789abcdef0"), KMSKeyARN: key,
		})
		if err != nil {
			return err
		}
		logins, err := database.NewLogins(ctx, "airbyte-logins", &database.LoginsArgs{Database: db, App: "airbyte", SecretPrefix: "analytics/airbyte", KMSKeyARN: key})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		sync, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config: secretsync.Config{ChartVersion: "2.9.0"}, Region: "us-east-1", OIDCProviderARN: oidcARN, OIDCIssuer: issuer, KMSKeyARN: key,
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		ab, err := airbyte.NewAirbyte(ctx, "airbyte", &airbyte.AirbyteArgs{
			Config: airbyte.Config{ChartVersion: "2.2.0", Host: "airbyte.example.com"},
			Region: "us-east-1", AccountID: "123456789012", Database: db, Logins: logins,
			BucketName: bucket.Name, BucketARN: bucket.ARN, BucketReady: bucket.Ready,
			// The component makes its IRSA roles, trusted through the cluster's OIDC provider.
			OIDCProviderARN: oidcARN, OIDCIssuer: issuer,
			KMSKeyARN: key, SecretSync: sync, SnapshotBeforeUpgrade: true,
			// A real program: the bundle file cmd/rds-ca fetched (database.CheckCABundle).
			CABundle: string(mocks.RDSCABundle("us-east-1")),
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		ctx.Export("url", ab.URL)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:helm.sh/v3:Release"], counts["kubernetes:core/v1:ServiceAccount"])
	// Output: <nil> 2 3
}
