package secretsync_test

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// The operator, a store in namespace "reports" allowed to read one secret,
// and a Kubernetes Secret built from two of its properties.
func ExampleNewOperator() {
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		secret := pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:reports/db-AbCdEf")
		op, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config:          secretsync.Config{ChartVersion: "2.9.0"},
			Region:          "us-east-1",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		store, err := secretsync.NewStore(ctx, "reports-secrets", &secretsync.StoreArgs{
			Operator: op, Namespace: "reports", SecretARNs: []pulumi.StringInput{secret},
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		_, err = secretsync.NewExternalSecret(ctx, "reports-db", &secretsync.ExternalSecretArgs{
			Namespace:  pulumi.String("reports"),
			SecretName: "reports-db",
			Fields: []secretsync.Field{
				{Key: "username", SecretARN: secret, Property: "username"},
				{Key: "password", SecretARN: secret, Property: "password"},
			},
			Template: map[string]pulumi.StringInput{"DATABASE_URL": pulumi.String("postgresql://{{ .username }}:{{ .password | urlquery }}@db:5432/reports")},
			Store:    store,
		}, pulumi.Provider(k8s))
		return err
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:external-secrets.io/v1:SecretStore"], counts["kubernetes:external-secrets.io/v1:ExternalSecret"])
	// Output: <nil> 1 1
}

// A store for namespace "billing" that may read two secrets and nothing
// else: ExternalSecrets in "billing" read through it.
func ExampleNewStore() {
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "analytics", &kubernetes.ProviderArgs{Kubeconfig: pulumi.ToSecret(pulumi.String("{}")).(pulumi.StringOutput)})
		if err != nil {
			return err
		}
		op, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
			Config:          secretsync.Config{ChartVersion: "2.9.0"},
			Region:          "us-east-1",
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		store, err := secretsync.NewStore(ctx, "billing-secrets", &secretsync.StoreArgs{
			Operator: op, Namespace: "billing",
			SecretARNs: []pulumi.StringInput{
				pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:billing/db-AbCdEf"),
				pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:billing/api-key-GhIjKl"),
			},
		}, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		ctx.Export("role", store.Role.RoleARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["kubernetes:external-secrets.io/v1:SecretStore"], counts["kubernetes:core/v1:ServiceAccount"])
	// Output: <nil> 1 1
}
