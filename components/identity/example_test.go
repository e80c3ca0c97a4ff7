package identity_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// A role that only the service account reports/exporter may assume, allowed
// to read one bucket.
func ExampleNewIrsaRole() {
	program := func(ctx *pulumi.Context) error {
		role, err := identity.NewIrsaRole(ctx, "exporter", &identity.IrsaRoleArgs{
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			ServiceAccounts: []identity.ServiceAccount{{Namespace: "reports", Name: "exporter"}},
			Policies: []identity.Policy{{Name: "read-reports", Document: iampolicy.Document{Statements: []iampolicy.Statement{{
				Actions:   []string{"s3:GetObject"},
				Resources: iampolicy.Strings("arn:aws:s3:::reports/*"),
			}}}}},
		})
		if err != nil {
			return err
		}
		ctx.Export("annotations", role.Annotations)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:iam/role:Role"], counts["aws:iam/policy:Policy"])
	// Output: <nil> 1 1
}
