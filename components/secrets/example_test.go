package secrets_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// The platform key and Airflow's generated secrets, under "analytics/".
func ExampleNewSecrets() {
	program := func(ctx *pulumi.Context) error {
		s, err := secrets.NewSecrets(ctx, "secrets", &secrets.SecretsArgs{Prefix: "analytics", AccountID: "123456789012"})
		if err != nil {
			return err
		}
		ctx.Export("keyArn", s.KeyARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:kms/key:Key"], counts["aws:secretsmanager/secret:Secret"], counts["random:index/randomPassword:RandomPassword"])
	// Output: <nil> 1 1 3
}
