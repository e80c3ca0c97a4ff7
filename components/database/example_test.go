package database_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// examplePostgres is an instance for the examples.
func examplePostgres(ctx *pulumi.Context) (*database.Postgres, error) {
	return database.NewPostgres(ctx, "metrics-db", &database.PostgresArgs{
		Config:                database.Config{EngineVersion: "17"},
		Identifier:            "analytics-metrics",
		DatabaseName:          "metrics",
		MasterUsername:        "metrics",
		VpcID:                 pulumi.String("vpc-0e1d2c3b4a5968778"),
		SubnetIDs:             pulumi.ToStringArray([]string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"}),
		ClientSecurityGroupID: pulumi.String("sg-0123456789abcdef0"),
		KMSKeyARN:             exampleKey,
	})
}

var exampleKey = pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")

// An app's own logins (blue and green), in its second generation: green is
// in use, with a new password; blue keeps working until the third.
func ExampleNewLogins() {
	program := func(ctx *pulumi.Context) error {
		db, err := examplePostgres(ctx)
		if err != nil {
			return err
		}
		l, err := database.NewLogins(ctx, "metrics-logins", &database.LoginsArgs{
			Database: db, App: "metrics", SecretPrefix: "analytics/metrics", Generation: 2, KMSKeyARN: exampleKey,
		})
		if err != nil {
			return err
		}
		fmt.Println(l.Active, l.Standby)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:secretsmanager/secret:Secret"])
	// Output:
	// metrics_green metrics_blue
	// <nil> 2
}

// The job that makes the logins in the database, as the RDS master user,
// in a namespace of its own.
func ExampleNewLoginJob() {
	program := func(ctx *pulumi.Context) error {
		db, err := examplePostgres(ctx)
		if err != nil {
			return err
		}
		l, err := database.NewLogins(ctx, "metrics-logins", &database.LoginsArgs{
			Database: db, App: "metrics", SecretPrefix: "analytics/metrics", KMSKeyARN: exampleKey,
		})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		sync, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config: secretsync.Config{ChartVersion: "2.9.0"}, Region: "us-east-1",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"), KMSKeyARN: exampleKey,
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		// Only the store of db-admin may read the master credentials.
		store, err := secretsync.NewStore(ctx, "db-admin-secrets", &secretsync.StoreArgs{
			Operator: sync, Namespace: "db-admin",
			SecretARNs: []pulumi.StringInput{db.MasterSecretARN, l.SecretARNs["blue"], l.SecretARNs["green"]},
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		// RDS's CAs in the job's namespace (a real program downloads them:
		// database.DownloadCABundle("us-east-1")).
		ca, err := database.NewCAConfigMap(ctx, "db-admin-rds-ca", pulumi.String("db-admin"), string(mocks.RDSCABundle("us-east-1")), pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		_, err = database.NewLoginJob(ctx, "metrics-logins", &database.LoginJobArgs{
			Logins: l, Namespace: pulumi.String("db-admin"), Store: store, CA: ca, MajorVersion: "17",
		}, pulumi.Providers(k8s))
		return err
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:batch/v1:Job"])
	// Output: <nil> 1
}

// A private PostgreSQL 17 instance whose master password RDS keeps in
// Secrets Manager, and a snapshot taken before an app's upgrade.
func ExampleNewPostgres() {
	program := func(ctx *pulumi.Context) error {
		db, err := examplePostgres(ctx)
		if err != nil {
			return err
		}
		if _, err := database.NewUpgradeSnapshot(ctx, "metrics", db, "metrics-app-1.2.0", nil); err != nil {
			return err
		}
		ctx.Export("secretArn", db.MasterSecretARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:rds/instance:Instance"], counts["aws:rds/snapshot:Snapshot"])
	// Output: <nil> 1 1
}

// The logins of two apps of one instance, made by their jobs in a namespace
// of their own: the only one where the master credentials are synced, and
// whose pods reach nothing but the database and DNS.
func ExampleNewAdmin() {
	program := func(ctx *pulumi.Context) error {
		db, err := examplePostgres(ctx)
		if err != nil {
			return err
		}
		var apps []database.AdminApp
		for _, app := range []string{"metrics", "reports"} {
			l, err := database.NewLogins(ctx, app+"-logins", &database.LoginsArgs{
				Database: db, App: app, SecretPrefix: "analytics/" + app, KMSKeyARN: exampleKey,
			})
			if err != nil {
				return err
			}
			apps = append(apps, database.AdminApp{Logins: l})
		}
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		sync, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config: secretsync.Config{ChartVersion: "2.9.0"}, Region: "us-east-1",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"), KMSKeyARN: exampleKey,
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		admin, err := database.NewAdmin(ctx, "db-admin", &database.AdminArgs{
			Databases: []*database.Postgres{db}, Apps: apps, SecretSync: sync,
			// A real program: the bundle file cmd/rds-ca fetched (database.CheckCABundle).
			CABundle: string(mocks.RDSCABundle("us-east-1")), MajorVersion: "17",
			DatabaseCIDRs: []string{"10.0.96.0/24", "10.0.97.0/24"},
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		fmt.Println(len(admin.Jobs))
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:batch/v1:Job"], counts["kubernetes:networking.k8s.io/v1:NetworkPolicy"])
	// Output:
	// 2
	// <nil> 2 3
}
