package stacks

import (
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// GitHubIssuer is GitHub Actions' OIDC issuer, as IAM names its keys.
const GitHubIssuer = "token.actions.githubusercontent.com"

// ViewPolicyARN is the EKS access policy that reads the cluster's objects,
// Secrets excepted.
const ViewPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

// PreviewRoleName is the role a pull request's `pulumi preview` runs as.
func PreviewRoleName(cfg *Config) string { return cfg.Name + "-preview" }

// PreviewDenied are what the preview role may not do even where
// ReadOnlyAccess allows it: read secret values, decrypt, read objects of
// the data buckets, read app clients' secrets, or become another role.
var PreviewDenied = []string{
	"secretsmanager:GetSecretValue", "kms:Decrypt", "s3:GetObject*", "cognito-idp:DescribeUserPoolClient",
	"logs:GetLogEvents", "logs:FilterLogEvents", "sts:AssumeRole",
}

// PreviewPolicy is the preview role's inline policy: a deny of
// PreviewDenied, except for the secrets the program reads at every preview
// (the federated provider's client secret, sso.externalProvider), which it
// may read, with the KMS decryption Secrets Manager makes for it.
func PreviewPolicy(region string, secrets []string) iampolicy.Document {
	if len(secrets) == 0 {
		return iampolicy.Document{Statements: []iampolicy.Statement{{
			Sid: "NoSecretsNoDataNoOtherRoles", Effect: iampolicy.Deny, Actions: PreviewDenied, Resources: iampolicy.Strings("*"),
		}}}
	}
	var others []string
	for _, a := range PreviewDenied {
		if a != "secretsmanager:GetSecretValue" && a != "kms:Decrypt" {
			others = append(others, a)
		}
	}
	viaSecretsManager := pulumi.String("secretsmanager." + region + ".amazonaws.com")
	return iampolicy.Document{Statements: []iampolicy.Statement{
		{Sid: "NoDataNoOtherRoles", Effect: iampolicy.Deny, Actions: others, Resources: iampolicy.Strings("*")},
		{Sid: "NoSecretsButTheProgramsOwn", Effect: iampolicy.Deny, Actions: []string{"secretsmanager:GetSecretValue"}, Resources: iampolicy.Strings("*"),
			Conditions: []iampolicy.Condition{{Test: "ArnNotEquals", Variable: pulumi.String("secretsmanager:SecretId"), Values: iampolicy.Strings(secrets...)}}},
		{Sid: "NoDecryptionButSecretsManagers", Effect: iampolicy.Deny, Actions: []string{"kms:Decrypt"}, Resources: iampolicy.Strings("*"),
			Conditions: []iampolicy.Condition{{Test: "StringNotEquals", Variable: pulumi.String("kms:ViaService"), Values: []pulumi.StringInput{viaSecretsManager}}}},
		{Sid: "TheSecretsThePreviewReads", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: iampolicy.Strings(secrets...)},
		{Sid: "TheirDecryption", Actions: []string{"kms:Decrypt"}, Resources: iampolicy.Strings("*"),
			Conditions: []iampolicy.Condition{{Test: "StringEquals", Variable: pulumi.String("kms:ViaService"), Values: []pulumi.StringInput{viaSecretsManager}}}},
	}}
}

// previewSecrets are the secrets the program reads at every preview.
func (p *Platform) previewSecrets() []string {
	if e := p.Config.SSO.ExternalProvider; p.Config.SSO.Enabled && e != nil {
		return []string{e.ClientSecretARN}
	}
	return nil
}

// GitHubPreviewTrust is the preview role's trust policy: GitHub's OIDC
// provider, for the jobs of one protected environment of one repository
// only (the subject "repo:<owner>/<name>:environment:<environment>"; no
// wildcard, so no branch, tag or pull request of a fork matches).
func GitHubPreviewTrust(providerARN, repository, environment string) iampolicy.Document {
	return iampolicy.Document{Statements: []iampolicy.Statement{{
		Sid:        "GitHubProtectedEnvironmentOnly",
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []iampolicy.Principal{{Type: "Federated", Identifiers: iampolicy.Strings(providerARN)}},
		Conditions: []iampolicy.Condition{
			{Test: "StringEquals", Variable: pulumi.String(GitHubIssuer + ":aud"), Values: iampolicy.Strings("sts.amazonaws.com")},
			{Test: "StringEquals", Variable: pulumi.String(GitHubIssuer + ":sub"), Values: iampolicy.Strings("repo:" + repository + ":environment:" + environment)},
		},
	}}}
}

// deployPreviewRole creates the role of CI's `pulumi preview`
// (dataplatform:ci.github): AWS read-only with the PreviewDenied denies,
// and the cluster's view policy. A preview needs no more: the Kubernetes
// provider previews a change it may not dry-run on the server with a
// client-side diff, and the preflight lets this role preview, not deploy.
func (p *Platform) deployPreviewRole(ctx *pulumi.Context, t map[string]string) error {
	g := p.Config.CI.GitHub
	if g == nil {
		return nil
	}
	name := PreviewRoleName(p.Config)
	role, err := iam.NewRole(ctx, p.name("preview"), &iam.RoleArgs{
		Name:               pulumi.String(name),
		Description:        pulumi.String("pulumi preview of stack " + p.Config.Stack + " from GitHub environment " + g.Environment + " of " + g.Repository),
		AssumeRolePolicy:   GitHubPreviewTrust(g.OIDCProviderARN, g.Repository, g.Environment).JSON(),
		MaxSessionDuration: pulumi.Int(3600),
		Tags:               tags.Named(t, name),
	})
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, p.name("preview-read-only"), &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String("arn:aws:iam::aws:policy/ReadOnlyAccess"),
	}); err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, p.name("preview-denies"), &iam.RolePolicyArgs{
		Role: role.Name, Policy: PreviewPolicy(p.Config.Region, p.previewSecrets()).JSON(),
	}); err != nil {
		return err
	}
	entry, err := awseks.NewAccessEntry(ctx, p.name("preview"), &awseks.AccessEntryArgs{
		ClusterName: p.Cluster.Name, PrincipalArn: role.Arn, Type: pulumi.String("STANDARD"), Tags: tags.Named(t, name),
	})
	if err != nil {
		return err
	}
	_, err = awseks.NewAccessPolicyAssociation(ctx, p.name("preview-view"), &awseks.AccessPolicyAssociationArgs{
		ClusterName: p.Cluster.Name, PrincipalArn: entry.PrincipalArn, PolicyArn: pulumi.String(ViewPolicyARN),
		AccessScope: &awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
	})
	ctx.Export("previewRoleArn", role.Arn)
	return err
}
