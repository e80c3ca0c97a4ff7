package cluster

// This file is the only one that uses pulumi-eks, so that moving to its v3 (or
// to plain aws.eks.Cluster) touches one file. pulumi-eks v2 is used for the
// control plane, its security groups and the OIDC provider only: its node
// groups are AL2-only and its default CNI setup runs kubectl, so it gets
// useDefaultVpcCni and skipDefaultNodeGroup, and node groups and add-ons are
// built with pulumi-aws.
//
// What pulumi-eks v2.8.1 creates for these arguments (its nodejs/eks code;
// internal/mocks/eks.go registers the same children in the offline plan),
// and what this file does about it:
//   - Without instanceRole(s) it creates an instance role trusted by EC2, with
//     three managed policies, and an EC2_LINUX access entry for it, even with
//     skipDefaultNodeGroup (cluster.js:445-522). Nothing would use them, so
//     instanceRoles is an empty list, which skips both.
//   - Its access entries come back in the component's `core` output as AWS
//     AccessEntry resources where its schema says eks:index:AccessEntry, and
//     the Go SDK then fails to read `core` ("expected a eks.AccessEntry, got
//     a resource of type *eks.AccessEntry", pulumi-eks#1435, fixed after
//     2.8.1). The admin access entries are therefore created here, with
//     pulumi-aws, and tagged like everything else.
//   - It always creates a node security group with the rules EKS nodes need
//     (cluster.js:866, securitygroup.js:44-98). Every node of the platform
//     (the core node group and Karpenter's) uses it, and the databases and
//     file systems admit it, so it is not left unused beside EKS's own.
//   - It hard-codes bootstrapClusterCreatorAdminPermissions: true
//     (cluster.js:351-366); ChildTransform sets it from config.

import (
	"context"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/tags"
)

// ClusterAdminPolicyARN is the EKS access policy that grants cluster-admin.
const ClusterAdminPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

type controlPlaneArgs struct {
	name          string
	cfg           Config
	vpcID         pulumi.StringInput
	subnetIDs     pulumi.StringArrayInput
	secretsKeyARN pulumi.StringInput
	tags          map[string]string
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
	nodeSecurityGroupID    pulumi.StringOutput
	kubeconfig             pulumi.StringOutput
	// adminAccess are the admin access entries and their policy
	// associations; Kubernetes resources must wait for them.
	adminAccess []pulumi.Resource
}

func newControlPlane(ctx *pulumi.Context, resourceName string, a controlPlaneArgs, opts ...pulumi.ResourceOption) (*controlPlane, error) {
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
		EncryptionConfigKeyArn: a.secretsKeyARN,
		EnabledClusterLogTypes: pulumi.ToStringArray(LogTypes),
		CreateOidcProvider:     pulumi.Bool(true),
		UseDefaultVpcCni:       &defaultCni,
		SkipDefaultNodeGroup:   &skipNodeGroup,
		// An empty list, not none: pulumi-eks then creates no instance role
		// and no EC2_LINUX access entry for one.
		InstanceRoles: iam.RoleArray{},
		// pulumi-eks names its children's Name tags after their logical
		// names ("cluster-eksCluster"); these name them after the cluster.
		Tags:                     pulumi.ToStringMap(a.tags),
		ClusterTags:              pulumi.StringMap{"Name": pulumi.String(a.name)},
		ClusterSecurityGroupTags: pulumi.StringMap{"Name": pulumi.String(a.name + "-control-plane")},
		NodeSecurityGroupTags:    pulumi.StringMap{"Name": pulumi.String(a.name + "-nodes")},
	}, append(opts, pulumi.Transforms([]pulumi.ResourceTransform{ChildTransform(a.cfg.BootstrapCreatorAdmin, a.tags)}))...)
	if err != nil {
		return nil, err
	}
	core := c.Core
	cp := &controlPlane{
		resource:               c,
		name:                   c.EksCluster.Name(),
		arn:                    c.EksCluster.Arn(),
		endpoint:               c.EksCluster.Endpoint(),
		certificateAuthority:   c.EksCluster.CertificateAuthority().Data().Elem(),
		oidcProviderARN:        core.OidcProvider().Arn(),
		oidcIssuer:             core.OidcProvider().Url(),
		clusterSecurityGroupID: c.EksCluster.VpcConfig().ClusterSecurityGroupId().Elem(),
		nodeSecurityGroupID:    c.NodeSecurityGroup.ApplyT(func(sg *ec2.SecurityGroup) pulumi.StringOutput { return sg.ID().ToStringOutput() }).(pulumi.StringOutput),
		kubeconfig:             pulumi.ToSecret(c.KubeconfigJson).(pulumi.StringOutput),
	}
	if cp.adminAccess, err = adminAccessEntries(ctx, resourceName, cp.name, a, opts...); err != nil {
		return nil, err
	}
	return cp, nil
}

// adminAccessEntries gives each of cfg.AdminRoleARNs an access entry with
// the cluster-admin access policy.
func adminAccessEntries(ctx *pulumi.Context, name string, clusterName pulumi.StringInput, a controlPlaneArgs, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, arn := range a.cfg.AdminRoleARNs {
		role := arn[strings.LastIndex(arn, "/")+1:]
		entry, err := awseks.NewAccessEntry(ctx, name+"-admin-"+role, &awseks.AccessEntryArgs{
			ClusterName:  clusterName,
			PrincipalArn: pulumi.String(arn),
			Type:         pulumi.String("STANDARD"),
			Tags:         tags.Named(a.tags, a.name+"-admin-"+role),
		}, opts...)
		if err != nil {
			return nil, err
		}
		assoc, err := awseks.NewAccessPolicyAssociation(ctx, name+"-admin-"+role, &awseks.AccessPolicyAssociationArgs{
			ClusterName:  clusterName,
			PrincipalArn: entry.PrincipalArn,
			PolicyArn:    pulumi.String(ClusterAdminPolicyARN),
			AccessScope:  &awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, entry, assoc)
	}
	return out, nil
}

// ChildTransform changes what pulumi-eks v2.8.1 creates inside its
// component, where it has no argument for it:
//   - on the aws:eks/cluster:Cluster, whether the creating identity becomes
//     cluster admin (bootstrapClusterCreatorAdminPermissions; pulumi-eks
//     hard-codes true, its v3 has an argument; EKS reads it only at creation);
//   - on the OIDC provider, which pulumi-eks leaves untagged, the platform's
//     tags.
//
// Pulumi runs it on every child of the component, in the engine
// (pulumi/pulumi#15846); the offline plan's mocks run it the same way.
func ChildTransform(creatorAdmin bool, t map[string]string) pulumi.ResourceTransform {
	return func(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
		props := pulumi.Map{}
		for k, v := range args.Props {
			props[k] = v
		}
		switch args.Type {
		case "aws:eks/cluster:Cluster":
			access := pulumi.Map{}
			if existing, ok := args.Props["accessConfig"].(pulumi.Map); ok {
				for k, v := range existing {
					access[k] = v
				}
			}
			access["authenticationMode"] = pulumi.String(string(eks.AuthenticationModeApi))
			access["bootstrapClusterCreatorAdminPermissions"] = pulumi.Bool(creatorAdmin)
			props["accessConfig"] = access
		case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
			props["tags"] = tags.Named(t, args.Name)
		default:
			return nil
		}
		return &pulumi.ResourceTransformResult{Props: props, Opts: args.Opts}
	}
}
