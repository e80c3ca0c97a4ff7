package identity

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// NodePolicyARNs are the AWS-managed policies every EKS node role carries:
// joining the cluster, the VPC CNI's ENI management, pulling from ECR, and
// SSM Session Manager instead of SSH.
var NodePolicyARNs = []string{
	"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
	"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
	"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
}

// NewNodeRole creates an IAM role that EC2 instances (EKS nodes) assume, with
// NodePolicyARNs attached. The role is a plain child of parent; its name is
// resourceName.
func NewNodeRole(ctx *pulumi.Context, resourceName, description string, t map[string]string, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, resourceName, &iam.RoleArgs{
		Description:      pulumi.String(description),
		AssumeRolePolicy: iampolicy.AssumeRoleForService("ec2.amazonaws.com").JSON(),
		Tags:             tags.Named(t, resourceName),
	}, opts...)
	if err != nil {
		return nil, err
	}
	for _, arn := range NodePolicyARNs {
		short := arn[len("arn:aws:iam::aws:policy/"):]
		if _, err := iam.NewRolePolicyAttachment(ctx, resourceName+"-"+short, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(arn),
		}, opts...); err != nil {
			return nil, err
		}
	}
	return role, nil
}
