// Package identity builds IAM roles for Kubernetes service accounts (IRSA):
// roles that only pods running as named service accounts of one cluster can
// assume, through the cluster's OIDC provider.
package identity

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// TypeToken is the Pulumi type of the IrsaRole component.
const TypeToken = "dataplatform:identity:IrsaRole"

// RoleARNAnnotation is the service account annotation that tells EKS's pod
// identity webhook which role the pods of that account assume.
const RoleARNAnnotation = "eks.amazonaws.com/role-arn"

// ManagedPolicyMaxChars is IAM's size limit of a managed policy document
// (whitespace excluded). Split larger permission sets into several Policies.
const ManagedPolicyMaxChars = 6144

// ServiceAccount names one Kubernetes service account.
type ServiceAccount struct {
	// Namespace of the service account.
	Namespace string
	// Name of the service account.
	Name string
}

// Subject is the OIDC subject of the account: "system:serviceaccount:NS:NAME".
func (s ServiceAccount) Subject() string {
	return "system:serviceaccount:" + s.Namespace + ":" + s.Name
}

// Policy is a named managed policy to create and attach to the role.
type Policy struct {
	// Name is a short, stable name; it becomes part of the child resource name.
	Name     string
	Document iampolicy.Document
}

// IrsaRoleArgs are the inputs of NewIrsaRole.
type IrsaRoleArgs struct {
	// OIDCProviderARN is the ARN of the cluster's IAM OIDC provider. Required.
	OIDCProviderARN pulumi.StringInput
	// OIDCIssuer is the provider's issuer without "https://", such as
	// "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE". Required.
	OIDCIssuer pulumi.StringInput
	// ServiceAccounts are the only accounts allowed to assume the role; at
	// least one. List several only when one app runs as several accounts.
	ServiceAccounts []ServiceAccount
	// Policies are created as customer-managed policies and attached.
	Policies []Policy
	// ManagedPolicyARNs are existing (typically AWS-managed) policies to attach.
	ManagedPolicyARNs []string
	// Description is shown in the IAM console.
	Description string
	// Tags are added to the role and its policies.
	Tags map[string]string
}

// IrsaRole is an IAM role for service accounts. Create it with NewIrsaRole.
type IrsaRole struct {
	pulumi.ResourceState

	// Role is the IAM role, for dependencies.
	Role *iam.Role
	// RoleARN is the role's ARN.
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
	// RoleName is the role's name.
	RoleName pulumi.StringOutput `pulumi:"roleName"`
	// Annotations are the annotations to put on each trusted service account.
	Annotations pulumi.StringMapOutput `pulumi:"annotations"`
	// ServiceAccounts are the accounts the role trusts.
	ServiceAccounts []ServiceAccount
	// Ready are the role and every policy attachment: depend on these
	// (rather than on the component, whose children Pulumi gathers only as
	// far as they are registered) to wait until the role has its permissions.
	Ready []pulumi.Resource
}

var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// Validate reports every problem of args, with field paths.
func (a *IrsaRoleArgs) Validate() *validate.Problems {
	var p validate.Problems
	if a.OIDCProviderARN == nil {
		p.Addf("oidcProviderArn", "required: the cluster's OIDC provider")
	}
	if a.OIDCIssuer == nil {
		p.Addf("oidcIssuer", "required: the cluster's OIDC issuer")
	}
	if len(a.ServiceAccounts) == 0 {
		p.Addf("serviceAccounts", "want at least one service account to trust")
	}
	seen := map[string]bool{}
	for i, sa := range a.ServiceAccounts {
		if !k8sName.MatchString(sa.Namespace) || len(sa.Namespace) > 63 {
			p.Addf(validate.Index("serviceAccounts", i)+".namespace", "want a Kubernetes namespace name, got %q", sa.Namespace)
		}
		if !k8sName.MatchString(sa.Name) || len(sa.Name) > 253 {
			p.Addf(validate.Index("serviceAccounts", i)+".name", "want a Kubernetes service account name, got %q", sa.Name)
		}
		if seen[sa.Subject()] {
			p.Addf(validate.Index("serviceAccounts", i), "%s is listed twice", sa.Subject())
		}
		seen[sa.Subject()] = true
	}
	names := map[string]bool{}
	for i, pol := range a.Policies {
		if !k8sName.MatchString(pol.Name) {
			p.Addf(validate.Index("policies", i)+".name", "want lowercase letters, digits and hyphens, got %q", pol.Name)
		}
		if names[pol.Name] {
			p.Addf(validate.Index("policies", i)+".name", "policy name %q is used twice", pol.Name)
		}
		names[pol.Name] = true
		for j, s := range pol.Document.Statements {
			for _, act := range s.Actions {
				if act == "*" {
					p.Addf(fmt.Sprintf("policies[%d].statements[%d]", i, j), "an Action of \"*\" is not allowed; list the actions the workload needs")
				}
			}
		}
	}
	return &p
}

// TrustPolicy is the trust policy of an IRSA role: web identity through the
// provider, with exact `sub` (the service accounts) and `aud` conditions.
func TrustPolicy(providerARN, issuer pulumi.StringInput, accounts []ServiceAccount) iampolicy.Document {
	subs := make([]string, len(accounts))
	for i, sa := range accounts {
		subs[i] = sa.Subject()
	}
	return iampolicy.Document{Statements: []iampolicy.Statement{{
		Sid:        "AllowServiceAccountsOfThisCluster",
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []iampolicy.Principal{{Type: "Federated", Identifiers: iampolicy.Inputs(providerARN)}},
		Conditions: []iampolicy.Condition{
			{Test: "StringEquals", Variable: pulumi.Sprintf("%s:sub", issuer), Values: iampolicy.Strings(subs...)},
			{Test: "StringEquals", Variable: pulumi.Sprintf("%s:aud", issuer), Values: iampolicy.Strings("sts.amazonaws.com")},
		},
	}}}
}

// NewIrsaRole creates the role, its managed policies and their attachments.
func NewIrsaRole(ctx *pulumi.Context, name string, args *IrsaRoleArgs, opts ...pulumi.ResourceOption) (*IrsaRole, error) {
	if args == nil {
		args = &IrsaRoleArgs{}
	}
	if err := args.Validate().Err(); err != nil {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	r := &IrsaRole{ServiceAccounts: args.ServiceAccounts}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	desc := args.Description
	if desc == "" {
		desc = "IRSA role for " + args.ServiceAccounts[0].Subject()
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String(desc),
		AssumeRolePolicy: TrustPolicy(args.OIDCProviderARN, args.OIDCIssuer, args.ServiceAccounts).JSON(),
		Tags:             tags.Named(args.Tags, name),
	}, parent)
	if err != nil {
		return nil, err
	}
	for _, pol := range args.Policies {
		doc := pol.Document.JSON().ApplyT(func(s string) (string, error) {
			if n := len(s); n > ManagedPolicyMaxChars {
				return "", fmt.Errorf("policy %s-%s is %d characters, over IAM's limit of %d: split it", name, pol.Name, n, ManagedPolicyMaxChars)
			}
			return s, nil
		}).(pulumi.StringOutput)
		p, err := iam.NewPolicy(ctx, name+"-"+pol.Name, &iam.PolicyArgs{
			Description: pulumi.String(desc + ": " + pol.Name),
			Policy:      doc,
			Tags:        tags.Named(args.Tags, name+"-"+pol.Name),
		}, parent)
		if err != nil {
			return nil, err
		}
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+pol.Name, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: p.Arn,
		}, parent)
		if err != nil {
			return nil, err
		}
		r.Ready = append(r.Ready, p, att)
	}
	for _, arn := range args.ManagedPolicyARNs {
		// Named after the policy, so reordering the list replaces nothing.
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+arn[strings.LastIndex(arn, "/")+1:], &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, parent)
		if err != nil {
			return nil, err
		}
		r.Ready = append(r.Ready, att)
	}
	r.Role = role
	r.Ready = append([]pulumi.Resource{role}, r.Ready...)
	r.RoleARN = role.Arn
	r.RoleName = role.Name
	r.Annotations = pulumi.StringMap{RoleARNAnnotation: role.Arn}.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"roleArn": role.Arn, "roleName": role.Name}); err != nil {
		return nil, err
	}
	return r, nil
}
