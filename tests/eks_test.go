package tests

import (
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	pulumieks "github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

// childrenOf lists "type name" of every resource under the component urn.
func childrenOf(p *plan.Plan, urn string) []string {
	var out []string
	var walk func(string)
	walk = func(parent string) {
		for _, r := range p.Resources {
			if r.Parent == parent {
				out = append(out, r.Type+" "+r.Name)
				walk(r.URN)
			}
		}
	}
	walk(urn)
	sort.Strings(out)
	return out
}

func TestPulumiEksChildrenAreWhatItCreatesForOurArguments(t *testing.T) {
	// pulumi-eks v2.8.1 (nodejs/eks, tag v2.8.1) for our arguments: the
	// service role (cluster.js:273-290), the cluster security group and its
	// egress (291-310), the cluster (335-367), a Kubernetes provider
	// (440-443), the OIDC provider (651-665), the node security group and
	// its five rules (866; securitygroup.js:44-98) and a second provider
	// (886-892). No instance role and no EC2_LINUX access entry
	// (instanceRoles is an empty list), no access entries (ours are made
	// with pulumi-aws, see TestPulumiEksAccessEntriesBreakTheGoSDK).
	want := []string{
		"aws:ec2/securityGroup:SecurityGroup cluster-eksClusterSecurityGroup",
		"aws:ec2/securityGroup:SecurityGroup cluster-nodeSecurityGroup",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksClusterIngressRule",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksClusterInternetEgressRule",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksExtApiServerClusterIngressRule",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksNodeClusterIngressRule",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksNodeIngressRule",
		"aws:ec2/securityGroupRule:SecurityGroupRule cluster-eksNodeInternetEgressRule",
		"aws:eks/cluster:Cluster cluster-eksCluster",
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider cluster-oidcProvider",
		"aws:iam/role:Role cluster-eksRole-role",
		"aws:iam/rolePolicyAttachment:RolePolicyAttachment cluster-eksRole-4b490823",
		"eks:index:ServiceRole cluster-eksRole",
		"pulumi:providers:kubernetes cluster-eks-k8s",
		"pulumi:providers:kubernetes cluster-provider",
	}
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		eksc := p.Find("eks:index:Cluster")[0]
		assert.True(t, eksc.Remote)
		assert.Equal(t, want, childrenOf(p, eksc.URN), stack)

		c := p.Find("aws:eks/cluster:Cluster")[0]
		role := findByName(t, p, "aws:iam/role:Role", "cluster-eksRole-role")
		att := findByName(t, p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-eksRole-4b490823")
		sg := findByName(t, p, "aws:ec2/securityGroup:SecurityGroup", "cluster-eksClusterSecurityGroup")
		for _, d := range []plan.Resource{role, att, sg} {
			assert.Contains(t, c.Dependencies, d.URN, "the cluster waits for %s", d.Name)
		}
		assert.Equal(t, "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", att.Inputs["policyArn"])
		assert.Equal(t, "eks.amazonaws.com", at(role.Inputs, "assumeRolePolicy", "Statement").([]any)[0].(map[string]any)["Principal"].(map[string]any)["Service"].([]any)[0])
		assert.Equal(t, []string{"accessConfig.bootstrapClusterCreatorAdminPermissions"}, c.IgnoreChanges)
		assert.Equal(t, []any{sgID(t, p, sg)}, at(c.Inputs, "vpcConfig", "securityGroupIds"))
		assert.Equal(t, p.Outputs["privateSubnetIds"], at(c.Inputs, "vpcConfig", "subnetIds"))
		assert.Empty(t, p.Find("aws:iam/instanceProfile:InstanceProfile"))
		for _, e := range p.Find("aws:eks/accessEntry:AccessEntry") {
			assert.NotEqual(t, eksc.URN, e.Parent, "pulumi-eks creates no access entry: %s", e.Name)
		}
	}
}

// sgID is a security group's ID as the mocks gave it.
func sgID(t *testing.T, p *plan.Plan, sg plan.Resource) string {
	for _, r := range p.Records() {
		if r.URN == sg.URN {
			return r.ID
		}
	}
	t.Fatalf("no record of %s", sg.URN)
	return ""
}

func TestEveryNodeUsesTheNodeSecurityGroupPulumiEksCreates(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		nodeSG := sgID(t, p, findByName(t, p, "aws:ec2/securityGroup:SecurityGroup", "cluster-nodeSecurityGroup"))
		lt := findByName(t, p, "aws:ec2/launchTemplate:LaunchTemplate", "cluster-core")
		assert.Equal(t, []any{nodeSG}, lt.Inputs["vpcSecurityGroupIds"], "core nodes")
		tag := findByName(t, p, "aws:ec2/tag:Tag", "cluster-node-sg-discovery")
		assert.Equal(t, nodeSG, tag.Inputs["resourceId"], "Karpenter's nodes find it by its discovery tag")
		assert.Equal(t, "karpenter.sh/discovery", tag.Inputs["key"])
		class := p.Find("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")[0]
		sel := at(class.Inputs, "spec", "securityGroupSelectorTerms").([]any)[0].(map[string]any)["tags"].(map[string]any)
		assert.Equal(t, tag.Inputs["value"], sel["karpenter.sh/discovery"])
		for _, r := range p.Find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if strings.HasSuffix(r.Name, "-from-nodes") {
				assert.Equal(t, nodeSG, r.Inputs["referencedSecurityGroupId"], "%s admits the nodes", r.Name)
			}
		}
	}
}

func TestPulumiEksAccessEntriesBreakTheGoSDK(t *testing.T) {
	// pulumi-eks 2.8.1 returns its access entries in `core` as AWS
	// AccessEntry resources where its schema says eks:index:AccessEntry;
	// reading core from Go then fails (pulumi-eks#1435). The mocks answer as
	// pulumi-eks does, so a program that passes accessEntries fails here as
	// it would in `pulumi up`. This is why the platform makes its own.
	opts := stackOptions(t, "dev")
	opts.Program = func(ctx *pulumi.Context) error {
		mode := pulumieks.AuthenticationModeApi
		c, err := pulumieks.NewCluster(ctx, "c", &pulumieks.ClusterArgs{
			VpcId:              pulumi.String("vpc-0123456789abcdef0"),
			SubnetIds:          pulumi.ToStringArray([]string{"subnet-0a1a1a1a1a1a1a1a1", "subnet-0b1b1b1b1b1b1b1b1"}),
			AuthenticationMode: &mode,
			CreateOidcProvider: pulumi.Bool(true),
			InstanceRoles:      iam.RoleArray{},
			AccessEntries: map[string]pulumieks.AccessEntryArgs{"admin": {
				PrincipalArn: pulumi.String("arn:aws:iam::123456789012:role/admin"),
				AccessPolicies: map[string]pulumieks.AccessPolicyAssociationInput{"admin": pulumieks.AccessPolicyAssociationArgs{
					PolicyArn:   pulumi.String("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
					AccessScope: eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
				}},
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("oidc", c.Core.OidcProvider().Arn())
		return nil
	}
	_, err := plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expected a eks.AccessEntry, got a resource of type *eks.AccessEntry")
}
