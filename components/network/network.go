// Package network provides Vpc, a component that lays out a multi-AZ VPC for
// an EKS-based platform: public, private and database subnets in every zone,
// NAT, VPC endpoints, flow logs, and the tags that load balancers and
// Karpenter use to find subnets.
package network

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// TypeToken is the Pulumi type of the Vpc component.
const TypeToken = "dataplatform:network:Vpc"

// Subnet tag keys that other software looks subnets up by.
const (
	// TagELB marks public subnets for internet-facing load balancers.
	TagELB = "kubernetes.io/role/elb"
	// TagInternalELB marks the ingress subnets for internal load balancers.
	TagInternalELB = "kubernetes.io/role/internal-elb"
	// TagKarpenterDiscovery marks the subnets (and security group) Karpenter
	// launches nodes into; its value is the cluster name.
	TagKarpenterDiscovery = "karpenter.sh/discovery"
)

// VpcArgs are the inputs of NewVpc.
type VpcArgs struct {
	// Config decides what is created; see Config for each field's default.
	Config Config
	// ClusterName is the EKS cluster that will use this VPC; it is the value
	// of the Karpenter discovery tag on the private subnets. Required.
	ClusterName string
	// Region and AccountID are where the VPC is made: the interface
	// endpoints' service names and the flow logs' trust. Required.
	Region, AccountID string
	// AvailabilityZones are the zones to use, resolved once for the whole
	// program (ResolveZones). Empty: NewVpc resolves them itself.
	AvailabilityZones []string
	// Tags are added to every taggable resource.
	Tags map[string]string
}

// Vpc is a multi-AZ VPC with three subnet tiers. Create it with NewVpc.
type Vpc struct {
	pulumi.ResourceState

	// VpcID is the ID of the VPC.
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// CidrBlock is the VPC's IPv4 block.
	CidrBlock pulumi.StringOutput `pulumi:"cidrBlock"`
	// AvailabilityZones are the zones the subnets are in, in subnet order.
	AvailabilityZones []string
	// PublicSubnetIDs are the public subnets, one per zone (load balancers, NAT).
	PublicSubnetIDs pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	// PrivateSubnetIDs are the private subnets, one per zone (nodes and pods).
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// DatabaseSubnetIDs are the isolated database subnets, one per zone; they
	// have no route to the internet.
	DatabaseSubnetIDs pulumi.StringArrayOutput `pulumi:"databaseSubnetIds"`
	// PrivateRouteTableIDs are the route tables of the private subnets, one per zone.
	PrivateRouteTableIDs pulumi.StringArrayOutput `pulumi:"privateRouteTableIds"`
	// NatGatewayIDs are the NAT gateways created (none, one or one per zone;
	// none with a NAT instance).
	NatGatewayIDs pulumi.StringArrayOutput `pulumi:"natGatewayIds"`
	// NatInstance is the NAT instance (natStrategy "Instance"), or nil.
	NatInstance *ec2.Instance
	// IngressSubnetIDs are the subnets of internal load balancers, one per
	// zone (tagged kubernetes.io/role/internal-elb): no pod is in them.
	IngressSubnetIDs pulumi.StringArrayOutput `pulumi:"ingressSubnetIds"`
	// CIDRs are the subnets' blocks, by tier.
	CIDRs CIDRs
	// LoadBalancerSubnets are the public and ingress subnets, where the AWS
	// Load Balancer Controller places load balancers: the controller must
	// wait for them, so that `pulumi destroy` removes it (after the
	// load balancers it made) before them.
	LoadBalancerSubnets []pulumi.Resource
	// EgressReady are the routes and endpoints that give the private subnets
	// their way out: nodes must not launch before them (they pull images).
	EgressReady []pulumi.Resource
}

// CIDRs are the blocks of a network's subnets, by tier, for rules by
// address (the apps' NetworkPolicies).
type CIDRs struct {
	// Public hold internet-facing load balancers and NAT; Private the nodes
	// and pods (and interface endpoints); Database the RDS instances;
	// Ingress internal load balancers (empty when they share Private).
	Public, Private, Database, Ingress []string
}

// LoadBalancers are the blocks the apps' load balancers send from: the
// public subnets for internet-facing ones, the ingress subnets (or, on a
// network without them, the private ones) for internal ones.
func (c CIDRs) LoadBalancers(scheme string) []string {
	switch {
	case scheme == "internet-facing":
		return c.Public
	case len(c.Ingress) > 0:
		return c.Ingress
	}
	return c.Private
}

func prefixes(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// ResolveZones returns the availability zones a Config will use: the pinned
// ones, or the region's first AzCount available zones. It fails with a
// message naming the field when the region has fewer zones than asked for.
func ResolveZones(ctx *pulumi.Context, cfg Config, opts ...pulumi.InvokeOption) ([]string, error) {
	cfg = cfg.WithDefaults()
	if len(cfg.AvailabilityZones) > 0 {
		return cfg.AvailabilityZones, nil
	}
	state := "available"
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: &state}, opts...)
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	if len(azs.Names) < cfg.AzCount {
		var p validate.Problems
		p.Addf("azCount", "want at most %d, the zones available in this region (%v), got %d", len(azs.Names), azs.Names, cfg.AzCount)
		return nil, p.Err()
	}
	return azs.Names[:cfg.AzCount], nil
}

// NewVpc creates the VPC and everything in it. Invalid args are rejected
// before anything is registered.
func NewVpc(ctx *pulumi.Context, name string, args *VpcArgs, opts ...pulumi.ResourceOption) (*Vpc, error) {
	if args == nil {
		args = &VpcArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.ClusterName == "" {
		problems.Addf("clusterName", "required: the EKS cluster name the subnets are tagged for")
	}
	if args.Region == "" || args.AccountID == "" {
		problems.Addf("region", "required, with accountId: the region and account the VPC is in")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	zones := args.AvailabilityZones
	if len(zones) == 0 {
		var err error
		if zones, err = ResolveZones(ctx, cfg); err != nil {
			return nil, err
		}
	}
	cfg.AvailabilityZones = zones
	layout, err := cfg.Layout()
	if err != nil {
		return nil, err
	}
	v := &Vpc{AvailabilityZones: zones}
	if err := ctx.RegisterComponentResource(TypeToken, name, v, opts...); err != nil {
		return nil, err
	}
	b := &vpcBuild{ctx: ctx, name: name, cluster: args.ClusterName, cfg: cfg, layout: layout, zones: zones,
		region: args.Region, t: args.Tags, v: v, parent: pulumi.Parent(v)}
	for _, step := range []func() error{b.core, b.subnets, b.publicRouting} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	out, err := b.privateRouting()
	if err != nil {
		return nil, err
	}
	if err := b.databaseRouting(); err != nil {
		return nil, err
	}
	if err := b.endpoints(); err != nil {
		return nil, err
	}
	if *cfg.FlowLogs.Enabled {
		if err := newFlowLogs(ctx, name, args.ClusterName, args.AccountID, b.vp, cfg.FlowLogs, args.Tags, b.parent); err != nil {
			return nil, err
		}
	}
	if err := b.outputs(out); err != nil {
		return nil, err
	}
	return v, nil
}

func newSubnet(ctx *pulumi.Context, name string, vp *ec2.Vpc, cidr, zone string, t pulumi.StringMap, opts ...pulumi.ResourceOption) (*ec2.Subnet, error) {
	return ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
		VpcId:               vp.ID(),
		CidrBlock:           pulumi.String(cidr),
		AvailabilityZone:    pulumi.String(zone),
		MapPublicIpOnLaunch: pulumi.Bool(false),
		Tags:                t,
	}, opts...)
}

func associate(ctx *pulumi.Context, name string, s *ec2.Subnet, rt *ec2.RouteTable, opts ...pulumi.ResourceOption) (*ec2.RouteTableAssociation, error) {
	return ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId:     s.ID(),
		RouteTableId: rt.ID(),
	}, opts...)
}

func ids(subnets []*ec2.Subnet) pulumi.StringArrayOutput {
	out := pulumi.StringArray{}
	for _, s := range subnets {
		out = append(out, s.ID())
	}
	return out.ToStringArrayOutput()
}

// newFlowLogs sends the VPC's flow logs to a CloudWatch log group, through a
// role that only the flow logs service of this account can assume and that
// may only write to that group.
func newFlowLogs(ctx *pulumi.Context, name, display, account string, vp *ec2.Vpc, cfg FlowLogs, t map[string]string, opts ...pulumi.ResourceOption) error {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/vpc/flow-logs/" + name + "-"),
		RetentionInDays: pulumi.Int(cfg.RetentionDays),
		Tags:            tags.Named(t, display+"-flow-logs"),
	}, opts...)
	if err != nil {
		return err
	}
	trust := iampolicy.AssumeRoleForService("vpc-flow-logs.amazonaws.com")
	trust.Statements[0].Conditions = []iampolicy.Condition{{
		Test: "StringEquals", Variable: pulumi.String("aws:SourceAccount"), Values: iampolicy.Inputs(pulumi.String(account)),
	}}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description:      pulumi.String("Lets VPC flow logs write to their log group"),
		AssumeRolePolicy: trust.JSON(),
		Tags:             tags.Named(t, display+"-flow-logs"),
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: iampolicy.Document{Statements: []iampolicy.Statement{{
			Sid:       "WriteFlowLogs",
			Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resources: iampolicy.Inputs(group.Arn, pulumi.Sprintf("%s:log-stream:*", group.Arn)),
		}}}.JSON(),
	}, opts...); err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name+"-flow-logs", &ec2.FlowLogArgs{
		VpcId:                  vp.ID(),
		TrafficType:            pulumi.String(cfg.TrafficType),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   tags.Named(t, display+"-flow-logs"),
	}, opts...)
	return err
}
