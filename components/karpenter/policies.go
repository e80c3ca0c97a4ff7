package karpenter

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
)

// ControllerPolicies returns the Karpenter v1 controller permissions, as the
// upstream CloudFormation template (v1.14) splits them into managed policies,
// each scoped to this cluster by the tags Karpenter puts on what it creates,
// and with iam:PassRole only on the node role.
func ControllerPolicies(s ControllerScope) []identity.Policy {
	ec2ARN := func(res string) pulumi.StringInput {
		return pulumi.String(fmt.Sprintf("arn:%s:ec2:%s:*:%s", s.Partition, s.Region, res))
	}
	ec2ARNs := func(res ...string) []pulumi.StringInput {
		out := make([]pulumi.StringInput, len(res))
		for i, r := range res {
			out[i] = ec2ARN(r)
		}
		return out
	}
	str := func(v string) pulumi.StringInput { return pulumi.String(v) }
	vals := iampolicy.Strings
	owned := "kubernetes.io/cluster/" + s.ClusterName
	cond := func(test, variable string, values ...string) iampolicy.Condition {
		return iampolicy.Condition{Test: test, Variable: str(variable), Values: vals(values...)}
	}
	taggedOwned := []iampolicy.Condition{
		cond("StringEquals", "aws:ResourceTag/"+owned, "owned"),
		cond("StringLike", "aws:ResourceTag/karpenter.sh/nodepool", "*"),
	}
	requestOwned := []iampolicy.Condition{
		cond("StringEquals", "aws:RequestTag/"+owned, "owned"),
		cond("StringEquals", "aws:RequestTag/eks:eks-cluster-name", s.ClusterName),
		cond("StringLike", "aws:RequestTag/karpenter.sh/nodepool", "*"),
	}
	created := []string{"fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*"}
	profiles := []pulumi.StringInput{pulumi.String(fmt.Sprintf("arn:%s:iam::%s:instance-profile/*", s.Partition, s.AccountID))}
	clusterARN := fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", s.Partition, s.Region, s.AccountID, s.ClusterName)

	return []identity.Policy{
		{Name: "node-lifecycle", Document: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				Sid:     "AllowScopedEC2InstanceAccessActions",
				Actions: []string{"ec2:RunInstances", "ec2:CreateFleet"},
				Resources: append([]pulumi.StringInput{
					pulumi.String(fmt.Sprintf("arn:%s:ec2:%s::image/*", s.Partition, s.Region)),
					pulumi.String(fmt.Sprintf("arn:%s:ec2:%s::snapshot/*", s.Partition, s.Region)),
				}, ec2ARNs("security-group/*", "subnet/*", "capacity-reservation/*", "placement-group/*")...),
			},
			{
				Sid:        "AllowScopedEC2LaunchTemplateAccessActions",
				Actions:    []string{"ec2:RunInstances", "ec2:CreateFleet"},
				Resources:  ec2ARNs("launch-template/*"),
				Conditions: taggedOwned,
			},
			{
				Sid:        "AllowScopedEC2InstanceActionsWithTags",
				Actions:    []string{"ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"},
				Resources:  ec2ARNs(created...),
				Conditions: requestOwned,
			},
			{
				Sid:       "AllowScopedResourceCreationTagging",
				Actions:   []string{"ec2:CreateTags"},
				Resources: ec2ARNs(created...),
				Conditions: append(append([]iampolicy.Condition{}, requestOwned...),
					cond("StringEquals", "ec2:CreateAction", "RunInstances", "CreateFleet", "CreateLaunchTemplate")),
			},
			{
				Sid:       "AllowScopedResourceTagging",
				Actions:   []string{"ec2:CreateTags"},
				Resources: ec2ARNs("instance/*"),
				Conditions: append(append([]iampolicy.Condition{}, taggedOwned...),
					cond("StringEqualsIfExists", "aws:RequestTag/eks:eks-cluster-name", s.ClusterName),
					cond("ForAllValues:StringEquals", "aws:TagKeys", "eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name")),
			},
			{
				Sid:        "AllowScopedDeletion",
				Actions:    []string{"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"},
				Resources:  ec2ARNs("instance/*", "launch-template/*"),
				Conditions: taggedOwned,
			},
		}}},
		{Name: "iam-integration", Document: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				Sid:        "AllowPassingInstanceRole",
				Actions:    []string{"iam:PassRole"},
				Resources:  iampolicy.Inputs(s.NodeRoleARN),
				Conditions: []iampolicy.Condition{cond("StringEquals", "iam:PassedToService", "ec2.amazonaws.com")},
			},
			{
				Sid:       "AllowScopedInstanceProfileCreationActions",
				Actions:   []string{"iam:CreateInstanceProfile"},
				Resources: profiles,
				Conditions: []iampolicy.Condition{
					cond("StringEquals", "aws:RequestTag/"+owned, "owned"),
					cond("StringEquals", "aws:RequestTag/eks:eks-cluster-name", s.ClusterName),
					cond("StringEquals", "aws:RequestTag/topology.kubernetes.io/region", s.Region),
					cond("StringLike", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass", "*"),
				},
			},
			{
				Sid:       "AllowScopedInstanceProfileTagActions",
				Actions:   []string{"iam:TagInstanceProfile"},
				Resources: profiles,
				Conditions: []iampolicy.Condition{
					cond("StringEquals", "aws:ResourceTag/"+owned, "owned"),
					cond("StringEquals", "aws:ResourceTag/topology.kubernetes.io/region", s.Region),
					cond("StringEquals", "aws:RequestTag/"+owned, "owned"),
					cond("StringEquals", "aws:RequestTag/eks:eks-cluster-name", s.ClusterName),
					cond("StringEquals", "aws:RequestTag/topology.kubernetes.io/region", s.Region),
					cond("StringLike", "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass", "*"),
					cond("StringLike", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass", "*"),
				},
			},
			{
				Sid:       "AllowScopedInstanceProfileActions",
				Actions:   []string{"iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"},
				Resources: profiles,
				Conditions: []iampolicy.Condition{
					cond("StringEquals", "aws:ResourceTag/"+owned, "owned"),
					cond("StringEquals", "aws:ResourceTag/topology.kubernetes.io/region", s.Region),
					cond("StringLike", "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass", "*"),
				},
			},
		}}},
		{Name: "eks-integration", Document: iampolicy.Document{Statements: []iampolicy.Statement{{
			Sid:       "AllowAPIServerEndpointDiscovery",
			Actions:   []string{"eks:DescribeCluster"},
			Resources: vals(clusterARN),
		}}}},
		{Name: "interruption", Document: iampolicy.Document{Statements: []iampolicy.Statement{{
			Sid:       "AllowInterruptionQueueActions",
			Actions:   []string{"sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
			Resources: iampolicy.Inputs(s.QueueARN),
		}}}},
		{Name: "resource-discovery", Document: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				// Describe calls do not support resource-level permissions:
				// "*" is the narrowest AWS allows; the region condition bounds it.
				Sid: "AllowRegionalReadActions",
				Actions: []string{
					"ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
					"ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
					"ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
					"ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets",
				},
				Resources:  vals("*"),
				Conditions: []iampolicy.Condition{cond("StringEquals", "aws:RequestedRegion", s.Region)},
			},
			{
				Sid:       "AllowSSMReadActions",
				Actions:   []string{"ssm:GetParameter"},
				Resources: vals(fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/*", s.Partition, s.Region)),
			},
			{
				Sid:       "AllowPricingReadActions",
				Actions:   []string{"pricing:GetProducts"},
				Resources: vals("*"), // no resource-level permissions
			},
			{
				Sid:       "AllowUnscopedInstanceProfileListAction",
				Actions:   []string{"iam:ListInstanceProfiles"},
				Resources: vals("*"), // no resource-level permissions
			},
			{
				Sid:       "AllowInstanceProfileReadActions",
				Actions:   []string{"iam:GetInstanceProfile"},
				Resources: profiles,
			},
			{
				Sid:        "AllowZonalShiftStatusReadOnly",
				Actions:    []string{"arc-zonal-shift:GetManagedResource"},
				Resources:  vals("*"),
				Conditions: []iampolicy.Condition{cond("StringEquals", "arc-zonal-shift:ResourceIdentifier", clusterARN)},
			},
		}}},
	}
}
