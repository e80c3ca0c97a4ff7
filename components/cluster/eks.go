package cluster

// This file is the only one that uses pulumi-eks, so that moving to its v3 (or
// to plain aws.eks.Cluster) touches one file. pulumi-eks v2 is used for the
// control plane and the OIDC provider only: its node groups are AL2-only and
// its default CNI setup runs kubectl, so it gets useDefaultVpcCni and
// skipDefaultNodeGroup, and node groups and add-ons are built with pulumi-aws.

import (
	"context"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterAdminPolicyARN is the EKS access policy that grants cluster-admin.
const ClusterAdminPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

type controlPlaneArgs struct {
	name              string
	cfg               Config
	vpcID             pulumi.StringInput
	subnetIDs         pulumi.StringArrayInput
	secretsKeyARN     pulumi.StringInput
	tags              pulumi.StringMap
	adminAccessPrefix string
}

// controlPlane is what the rest of the package needs from the EKS cluster.
type controlPlane struct {
	resource               pulumi.Resource
	name                   pulumi.StringOutput
	arn                    pulumi.StringOutput
	endpoint               pulumi.StringOutput
	certificateAuthority   pulumi.StringOutput
	oidcProviderARN        pulumi.StringOutput
	oidcIssuer             pulumi.StringOutput
	clusterSecurityGroupID pulumi.StringOutput
	kubeconfig             pulumi.StringOutput
}

func newControlPlane(ctx *pulumi.Context, resourceName string, a controlPlaneArgs, opts ...pulumi.ResourceOption) (*controlPlane, error) {
	entries := map[string]eks.AccessEntryArgs{}
	for _, arn := range a.cfg.AdminRoleARNs {
		role := arn[strings.LastIndex(arn, "/")+1:]
		entries["admin-"+role] = eks.AccessEntryArgs{
			PrincipalArn: pulumi.String(arn),
			AccessPolicies: map[string]eks.AccessPolicyAssociationInput{
				"cluster-admin": eks.AccessPolicyAssociationArgs{
					PolicyArn:   pulumi.String(ClusterAdminPolicyARN),
					AccessScope: awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
				},
			},
		}
	}
	mode := eks.AuthenticationModeApi
	skipNodeGroup, defaultCni := true, true
	c, err := eks.NewCluster(ctx, resourceName, &eks.ClusterArgs{
		Name:                   pulumi.String(a.name),
		Version:                pulumi.String(a.cfg.KubernetesVersion),
		VpcId:                  a.vpcID,
		SubnetIds:              a.subnetIDs,
		EndpointPrivateAccess:  pulumi.Bool(true),
		EndpointPublicAccess:   pulumi.Bool(a.cfg.Endpoint.PublicAccess),
		PublicAccessCidrs:      pulumi.ToStringArray(a.cfg.Endpoint.PublicAccessCIDRs),
		AuthenticationMode:     &mode,
		AccessEntries:          entries,
		EncryptionConfigKeyArn: a.secretsKeyARN,
		EnabledClusterLogTypes: pulumi.ToStringArray(LogTypes),
		CreateOidcProvider:     pulumi.Bool(true),
		UseDefaultVpcCni:       &defaultCni,
		SkipDefaultNodeGroup:   &skipNodeGroup,
		Tags:                   a.tags,
		ClusterTags:            a.tags,
	}, append(opts, pulumi.Transforms([]pulumi.ResourceTransform{CreatorAdminTransform(a.cfg.BootstrapCreatorAdmin)}))...)
	if err != nil {
		return nil, err
	}
	core := c.Core
	return &controlPlane{
		resource:               c,
		name:                   c.EksCluster.Name(),
		arn:                    c.EksCluster.Arn(),
		endpoint:               c.EksCluster.Endpoint(),
		certificateAuthority:   c.EksCluster.CertificateAuthority().Data().Elem(),
		oidcProviderARN:        core.OidcProvider().Arn(),
		oidcIssuer:             core.OidcProvider().Url(),
		clusterSecurityGroupID: c.EksCluster.VpcConfig().ClusterSecurityGroupId().Elem(),
		kubeconfig:             pulumi.ToSecret(c.KubeconfigJson).(pulumi.StringOutput),
	}, nil
}

// CreatorAdminTransform sets, on the aws:eks/cluster:Cluster that pulumi-eks
// creates, whether the creating identity becomes cluster admin. pulumi-eks v2
// has no argument for it; its v3 has bootstrapClusterCreatorAdminPermissions.
// EKS reads the setting only when the cluster is created.
func CreatorAdminTransform(enabled bool) pulumi.ResourceTransform {
	return func(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
		if args.Type != "aws:eks/cluster:Cluster" {
			return nil
		}
		props := pulumi.Map{}
		for k, v := range args.Props {
			props[k] = v
		}
		access := pulumi.Map{}
		if existing, ok := args.Props["accessConfig"].(pulumi.Map); ok {
			for k, v := range existing {
				access[k] = v
			}
		}
		access["authenticationMode"] = pulumi.String(string(eks.AuthenticationModeApi))
		access["bootstrapClusterCreatorAdminPermissions"] = pulumi.Bool(enabled)
		props["accessConfig"] = access
		return &pulumi.ResourceTransformResult{Props: props, Opts: args.Opts}
	}
}
