// Package karpenter installs Karpenter, which launches the nodes data
// workloads run on. The AWS side (Infrastructure: IAM, the interruption
// queue and its EventBridge rules, the node access entry) is kept apart from
// the Kubernetes side (Controller: the Helm releases, the EC2NodeClass and
// the NodePools), as terraform-aws-modules does.
package karpenter

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// InfrastructureTypeToken is the Pulumi type of the Infrastructure component.
const InfrastructureTypeToken = "dataplatform:karpenter:Infrastructure"

// ServiceAccountName is the controller's service account (the chart's
// default for a release named "karpenter"); its IRSA role trusts only it.
const ServiceAccountName = "karpenter"

// InterruptionEvents are the EventBridge events Karpenter handles, by rule
// name suffix: it drains nodes ahead of spot interruptions, rebalance
// recommendations, scheduled maintenance and capacity reservation reclaims,
// and cleans up after instances that stop.
var InterruptionEvents = []struct {
	Name, Source, DetailType string
}{
	{"scheduled-change", "aws.health", "AWS Health Event"},
	{"spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"},
	{"rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"},
	{"instance-state-change", "aws.ec2", "EC2 Instance State-change Notification"},
	{"capacity-reservation-interruption", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"},
}

// InfrastructureArgs are the inputs of NewInfrastructure.
type InfrastructureArgs struct {
	// ClusterName is the EKS cluster's name. Required.
	ClusterName string
	// Namespace is where the controller runs (its service account's namespace).
	// Default "kube-system".
	Namespace string
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA provider. Required.
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// Region and AccountID are the cluster's: they scope the controller's
	// permissions. Required.
	Region, AccountID string
	// ClusterDependency is the cluster resource the access entry waits for.
	ClusterDependency pulumi.Resource
	// Tags are added to every taggable resource.
	Tags map[string]string
}

// Infrastructure is the AWS side of Karpenter. Create it with NewInfrastructure.
type Infrastructure struct {
	pulumi.ResourceState

	// ControllerRoleARN is the controller's IRSA role.
	ControllerRoleARN pulumi.StringOutput `pulumi:"controllerRoleArn"`
	// NodeRoleName is the role of the nodes Karpenter launches (the
	// EC2NodeClass's role).
	NodeRoleName pulumi.StringOutput `pulumi:"nodeRoleName"`
	// NodeRoleARN is that role's ARN.
	NodeRoleARN pulumi.StringOutput `pulumi:"nodeRoleArn"`
	// QueueName is the interruption queue's name (the chart's settings.interruptionQueue).
	QueueName pulumi.StringOutput `pulumi:"queueName"`
	// QueueARN is the interruption queue's ARN.
	QueueARN pulumi.StringOutput `pulumi:"queueArn"`
	// NodeAccessEntry lets the nodes join the cluster; the controller must wait for it.
	NodeAccessEntry *awseks.AccessEntry
	// Queue is the interruption queue.
	Queue *sqs.Queue
}

// NewInfrastructure creates Karpenter's AWS resources.
func NewInfrastructure(ctx *pulumi.Context, name string, args *InfrastructureArgs, opts ...pulumi.ResourceOption) (*Infrastructure, error) {
	if args == nil {
		args = &InfrastructureArgs{}
	}
	var p validate.Problems
	if args.ClusterName == "" {
		p.Addf("clusterName", "required")
	}
	if args.Region == "" || args.AccountID == "" {
		p.Addf("region", "required, with accountId: they scope the controller's permissions")
	}
	if args.OIDCProviderARN == nil || args.OIDCIssuer == nil {
		p.Addf("oidcProviderArn", "required, with oidcIssuer: the cluster's IRSA provider")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	ns := args.Namespace
	if ns == "" {
		ns = "kube-system"
	}

	k := &Infrastructure{}
	if err := ctx.RegisterComponentResource(InfrastructureTypeToken, name, k, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(k)
	t := args.Tags

	nodeRole, err := identity.NewNodeRole(ctx, name+"-node", "Nodes Karpenter launches for EKS cluster "+args.ClusterName, t, parent)
	if err != nil {
		return nil, err
	}
	entryOpts := []pulumi.ResourceOption{parent}
	if args.ClusterDependency != nil {
		entryOpts = append(entryOpts, pulumi.DependsOn([]pulumi.Resource{args.ClusterDependency}))
	}
	entry, err := awseks.NewAccessEntry(ctx, name+"-node", &awseks.AccessEntryArgs{
		ClusterName:  pulumi.String(args.ClusterName),
		PrincipalArn: nodeRole.Arn,
		Type:         pulumi.String("EC2_LINUX"),
		Tags:         tags.Named(t, name+"-node"),
	}, entryOpts...)
	if err != nil {
		return nil, err
	}

	queue, err := interruptionQueue(ctx, name, args.ClusterName, t, parent)
	if err != nil {
		return nil, err
	}

	policies := ControllerPolicies(ControllerScope{
		Partition:   "aws",
		Region:      args.Region,
		AccountID:   args.AccountID,
		ClusterName: args.ClusterName,
		NodeRoleARN: nodeRole.Arn,
		QueueARN:    queue.Arn,
	})
	controller, err := identity.NewIrsaRole(ctx, name+"-controller", &identity.IrsaRoleArgs{
		OIDCProviderARN: args.OIDCProviderARN,
		OIDCIssuer:      args.OIDCIssuer,
		ServiceAccounts: []identity.ServiceAccount{{Namespace: ns, Name: ServiceAccountName}},
		Policies:        policies,
		Description:     "Karpenter controller of EKS cluster " + args.ClusterName,
		Tags:            t,
	}, parent)
	if err != nil {
		return nil, err
	}

	k.ControllerRoleARN = controller.RoleARN
	k.NodeRoleName = nodeRole.Name
	k.NodeRoleARN = nodeRole.Arn
	k.QueueName = queue.Name
	k.QueueARN = queue.Arn
	k.NodeAccessEntry = entry
	k.Queue = queue
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{
		"controllerRoleArn": k.ControllerRoleARN,
		"nodeRoleArn":       k.NodeRoleARN,
		"queueName":         k.QueueName,
	}); err != nil {
		return nil, err
	}
	return k, nil
}

// interruptionQueue is the queue of the interruption events Karpenter
// drains nodes ahead of (spot interruptions, rebalance recommendations,
// instance state changes, scheduled health events), with the EventBridge
// rules that fill it.
func interruptionQueue(ctx *pulumi.Context, name, cluster string, t map[string]string, parent pulumi.ResourceOption) (*sqs.Queue, error) {
	queue, err := sqs.NewQueue(ctx, name+"-interruptions", &sqs.QueueArgs{
		// SQS refuses a queue's name for 60 seconds after its deletion: a
		// prefix gives each generation of the stack its own.
		NamePrefix:              pulumi.Sprintf("%s-karpenter-", cluster),
		MessageRetentionSeconds: pulumi.Int(300),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		Tags:                    tags.Named(t, cluster+"-karpenter"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := sqs.NewQueuePolicy(ctx, name+"-interruptions", &sqs.QueuePolicyArgs{
		QueueUrl: queue.Url,
		Policy: iampolicy.Document{Statements: []iampolicy.Statement{
			{
				Sid:        "AllowEventBridgeToSend",
				Principals: []iampolicy.Principal{{Type: "Service", Identifiers: iampolicy.Strings("events.amazonaws.com", "sqs.amazonaws.com")}},
				Actions:    []string{"sqs:SendMessage"},
				Resources:  iampolicy.Inputs(queue.Arn),
			},
			iampolicy.DenyInsecureTransport("sqs:*", queue.Arn),
		}}.JSON(),
	}, parent); err != nil {
		return nil, err
	}
	for _, ev := range InterruptionEvents {
		rule, err := cloudwatch.NewEventRule(ctx, name+"-"+ev.Name, &cloudwatch.EventRuleArgs{
			Description: pulumi.Sprintf("%s events for Karpenter of EKS cluster %s", ev.DetailType, cluster),
			EventPattern: pulumi.JSONMarshal(map[string]any{
				"source":      []string{ev.Source},
				"detail-type": []string{ev.DetailType},
			}),
			Tags: tags.Named(t, name+"-"+ev.Name),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := cloudwatch.NewEventTarget(ctx, name+"-"+ev.Name, &cloudwatch.EventTargetArgs{
			Rule:     rule.Name,
			TargetId: pulumi.String("KarpenterInterruptionQueueTarget"),
			Arn:      queue.Arn,
		}, parent); err != nil {
			return nil, err
		}
	}
	return queue, nil
}

// ControllerScope is what the controller's permissions are scoped to.
type ControllerScope struct {
	// Partition ("aws"), Region, AccountID and ClusterName are put into ARNs and tag conditions.
	Partition, Region, AccountID, ClusterName string
	// NodeRoleARN is the only role the controller may pass; QueueARN its interruption queue.
	NodeRoleARN, QueueARN pulumi.StringInput
}
