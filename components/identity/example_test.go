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

// Single sign-on for one app: a Cognito user pool with MFA, the groups of
// Airflow's roles, and an app client whose secret is kept in Secrets Manager.
func ExampleNewSignIn() {
	program := func(ctx *pulumi.Context) error {
		s, err := identity.NewSignIn(ctx, "sso", "us-east-1", &identity.SignInArgs{
			Config:   identity.SSOConfig{Enabled: true, DomainPrefix: "analytics-123456789012"}.WithDefaults("analytics"),
			Platform: "analytics",
			Apps: []identity.SignInApp{{Name: "airflow", StoreSecret: true,
				CallbackURLs: []string{"https://airflow.example.com/auth/oauth-authorized/cognito"}}},
			SecretPrefix: "analytics/",
			KMSKeyARN:    pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		})
		if err != nil {
			return err
		}
		ctx.Export("pool", s.PoolARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:cognito/userPool:UserPool"], counts["aws:cognito/userGroup:UserGroup"], counts["aws:cognito/userPoolClient:UserPoolClient"])
	// Output: <nil> 1 5 1
}
