package database_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// A private PostgreSQL 17 instance whose master password RDS keeps in
// Secrets Manager, and a snapshot taken before an app's upgrade.
func ExampleNewPostgres() {
	program := func(ctx *pulumi.Context) error {
		db, err := database.NewPostgres(ctx, "metrics-db", &database.PostgresArgs{
			Config:                database.Config{EngineVersion: "17"},
			Identifier:            "analytics-metrics",
			DatabaseName:          "metrics",
			MasterUsername:        "metrics",
			VpcID:                 pulumi.String("vpc-0e1d2c3b4a5968778"),
			SubnetIDs:             pulumi.ToStringArray([]string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"}),
			ClientSecurityGroupID: pulumi.String("sg-0123456789abcdef0"),
			KMSKeyARN:             pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		})
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
