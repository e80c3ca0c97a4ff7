package airflow_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airflow"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/components/storage"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Airflow with everything it needs: database, log bucket, generated
// secrets, IRSA role and the operator that syncs its credentials.
func ExampleNewAirflow() {
	program := func(ctx *pulumi.Context) error {
		oidcARN := pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
		issuer := pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
		sec, err := secrets.NewSecrets(ctx, "secrets", &secrets.SecretsArgs{Prefix: "analytics", AccountID: "123456789012"})
		if err != nil {
			return err
		}
		logs, err := storage.NewBucket(ctx, "airflow-logs", &storage.BucketArgs{BucketName: "analytics-airflow-logs-123456789012", KMSKeyARN: sec.KeyARN, LogPrefixes: []string{""}})
		if err != nil {
			return err
		}
		db, err := database.NewPostgres(ctx, "airflow-db", &database.PostgresArgs{
			Config: database.Config{EngineVersion: "17"}, Identifier: "analytics-airflow", DatabaseName: "airflow", MasterUsername: "airflow",
			VpcID: pulumi.String("vpc-0e1d2c3b4a5968778"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"}),
			ClientSecurityGroupID: pulumi.String("sg-0123456789abcdef0"), KMSKeyARN: sec.KeyARN,
		})
		if err != nil {
			return err
		}
		logins, err := database.NewLogins(ctx, "airflow-logins", &database.LoginsArgs{Database: db, App: "airflow", SecretPrefix: "analytics/airflow", KMSKeyARN: sec.KeyARN})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		sync, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config: secretsync.Config{ChartVersion: "2.9.0"}, Region: "us-east-1", OIDCProviderARN: oidcARN, OIDCIssuer: issuer,
			KMSKeyARN: sec.KeyARN,
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		af, err := airflow.NewAirflow(ctx, "airflow", &airflow.AirflowArgs{
			Config:   airflow.Config{ChartVersion: "1.21.0", Host: "airflow.example.com"},
			ChartDir: "../../charts", // where this program's vendored archives are
			Platform: "analytics", Region: "us-east-1", AccountID: "123456789012",
			Database: db, Logins: logins, LogBucketName: logs.Name, LogBucketARN: logs.ARN, LogBucketReady: logs.Ready,
			// The component makes its IRSA roles (one for the task pods, which
			// run DAG code), trusted through the cluster's OIDC provider.
			OIDCProviderARN: oidcARN, OIDCIssuer: issuer, KMSKeyARN: sec.KeyARN,
			PlatformSecretARN: sec.AirflowSecretARN, SecretSync: sync, SnapshotBeforeUpgrade: true,
			// A real program: the bundle file cmd/rds-ca fetched (database.CheckCABundle).
			CABundle: string(mocks.RDSCABundle("us-east-1")),
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		ctx.Export("url", af.URL)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:helm.sh/v3:Release"], counts["kubernetes:external-secrets.io/v1:ExternalSecret"])
	// Output: <nil> 2 4
}
