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
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
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
	if err := problems.Err(); err != nil {
		return nil, err
	}
	zones, err := ResolveZones(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg.AvailabilityZones = zones
	layout, err := cfg.Layout()
	if err != nil {
		return nil, err
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the region: %w", err)
	}

	v := &Vpc{AvailabilityZones: zones}
	if err := ctx.RegisterComponentResource(TypeToken, name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	t := args.Tags

	vp, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(cfg.CidrBlock),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags.Named(t, args.ClusterName),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Adopting the default security group with no rules removes the rules AWS
	// puts in it, so nothing that lands in it by mistake can talk.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId:   vp.ID(),
		Ingress: ec2.DefaultSecurityGroupIngressArray{},
		Egress:  ec2.DefaultSecurityGroupEgressArray{},
		Tags:    tags.Named(t, args.ClusterName+"-default-do-not-use"),
	}, parent); err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vp.ID(),
		Tags:  tags.Named(t, args.ClusterName),
	}, parent)
	if err != nil {
		return nil, err
	}

	// Subnets.
	var public, private, database, ingress []*ec2.Subnet
	for i, z := range zones {
		s, err := newSubnet(ctx, fmt.Sprintf("%s-public-%s", name, z), vp, layout.Public[i].String(), z,
			tags.Named(t, fmt.Sprintf("%s-public-%s", args.ClusterName, z), map[string]string{TagELB: "1", "tier": "public"}), parent)
		if err != nil {
			return nil, err
		}
		public = append(public, s)
		s, err = newSubnet(ctx, fmt.Sprintf("%s-private-%s", name, z), vp, layout.Private[i].String(), z,
			tags.Named(t, fmt.Sprintf("%s-private-%s", args.ClusterName, z), map[string]string{
				TagKarpenterDiscovery: args.ClusterName, "tier": "private",
			}), parent)
		if err != nil {
			return nil, err
		}
		private = append(private, s)
		s, err = newSubnet(ctx, fmt.Sprintf("%s-database-%s", name, z), vp, layout.Database[i].String(), z,
			tags.Named(t, fmt.Sprintf("%s-database-%s", args.ClusterName, z), map[string]string{"tier": "database"}), parent)
		if err != nil {
			return nil, err
		}
		database = append(database, s)
		// Internal load balancers only: no pod takes an address here, so
		// the apps' NetworkPolicies admit these blocks and no pod. They
		// need no route but the VPC's own (the main table's).
		s, err = newSubnet(ctx, fmt.Sprintf("%s-ingress-%s", name, z), vp, layout.Ingress[i].String(), z,
			tags.Named(t, fmt.Sprintf("%s-ingress-%s", args.ClusterName, z), map[string]string{TagInternalELB: "1", "tier": "ingress"}), parent)
		if err != nil {
			return nil, err
		}
		ingress = append(ingress, s)
	}

	// Public routing: one table, default route to the internet gateway.
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vp.ID(),
		Tags:  tags.Named(t, args.ClusterName+"-public"),
	}, parent)
	if err != nil {
		return nil, err
	}
	publicRoute, err := ec2.NewRoute(ctx, name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent)
	if err != nil {
		return nil, err
	}
	// What a NAT instance needs to reach the internet as it boots.
	publicReady := []pulumi.Resource{igw, publicRoute}
	for i, s := range public {
		assoc, err := associate(ctx, fmt.Sprintf("%s-public-%s", name, zones[i]), s, publicRT, parent)
		if err != nil {
			return nil, err
		}
		publicReady = append(publicReady, assoc)
	}

	// NAT, in the public subnets.
	var privateCIDRs []string
	for _, b := range layout.Private {
		privateCIDRs = append(privateCIDRs, b.String())
	}
	out, err := newEgress(ctx, natNet{name: name, cluster: args.ClusterName, cfg: cfg, zones: zones, vpc: vp, igw: igw,
		public: public, publicReady: publicReady, privateCIDRs: privateCIDRs, tags: t}, parent)
	if err != nil {
		return nil, err
	}

	// Private routing: a table per zone, so that moving between NAT
	// strategies only changes routes, never associations.
	var privateRTs []*ec2.RouteTable
	for i, z := range zones {
		rt, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%s", name, z), &ec2.RouteTableArgs{
			VpcId: vp.ID(),
			Tags:  tags.Named(t, fmt.Sprintf("%s-private-%s", args.ClusterName, z)),
		}, parent)
		if err != nil {
			return nil, err
		}
		privateRTs = append(privateRTs, rt)
		if out.route != nil {
			routeArgs := &ec2.RouteArgs{RouteTableId: rt.ID(), DestinationCidrBlock: pulumi.String("0.0.0.0/0")}
			out.route(i, routeArgs)
			route, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-private-%s-default", name, z), routeArgs, parent)
			if err != nil {
				return nil, err
			}
			v.EgressReady = append(v.EgressReady, route)
		}
		if _, err := associate(ctx, fmt.Sprintf("%s-private-%s", name, z), private[i], rt, parent); err != nil {
			return nil, err
		}
	}

	// Database routing: one table with no route out of the VPC.
	databaseRT, err := ec2.NewRouteTable(ctx, name+"-database", &ec2.RouteTableArgs{
		VpcId: vp.ID(),
		Tags:  tags.Named(t, args.ClusterName+"-database"),
	}, parent)
	if err != nil {
		return nil, err
	}
	for i, s := range database {
		if _, err := associate(ctx, fmt.Sprintf("%s-database-%s", name, zones[i]), s, databaseRT, parent); err != nil {
			return nil, err
		}
	}

	// Endpoints.
	gatewayRTs := pulumi.StringArray{}
	for _, rt := range privateRTs {
		gatewayRTs = append(gatewayRTs, rt.ID())
	}
	gatewayRTs = append(gatewayRTs, databaseRT.ID())
	s3Endpoint, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vp.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", region.Name),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   gatewayRTs,
		Tags:            tags.Named(t, args.ClusterName+"-s3"),
	}, parent)
	if err != nil {
		return nil, err
	}
	v.EgressReady = append(v.EgressReady, s3Endpoint)
	if len(cfg.InterfaceEndpoints) > 0 {
		sg, err := ec2.NewSecurityGroup(ctx, name+"-endpoints", &ec2.SecurityGroupArgs{
			VpcId:       vp.ID(),
			Description: pulumi.String("HTTPS from inside the VPC to interface endpoints"),
			Tags:        tags.Named(t, args.ClusterName+"-endpoints"),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-endpoints-https", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(),
			Description:     pulumi.String("HTTPS from the VPC"),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(443),
			ToPort:          pulumi.Int(443),
			CidrIpv4:        pulumi.String(cfg.CidrBlock),
			Tags:            tags.Named(t, args.ClusterName+"-endpoints-https"),
		}, parent); err != nil {
			return nil, err
		}
		subnetIDs := pulumi.StringArray{}
		for _, s := range private {
			subnetIDs = append(subnetIDs, s.ID())
		}
		for _, e := range cfg.InterfaceEndpoints {
			ep, err := ec2.NewVpcEndpoint(ctx, fmt.Sprintf("%s-%s", name, e), &ec2.VpcEndpointArgs{
				VpcId:             vp.ID(),
				ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", region.Name, string(e)),
				VpcEndpointType:   pulumi.String("Interface"),
				PrivateDnsEnabled: pulumi.Bool(true),
				SubnetIds:         subnetIDs,
				SecurityGroupIds:  pulumi.StringArray{sg.ID()},
				Tags:              tags.Named(t, fmt.Sprintf("%s-%s", args.ClusterName, e)),
			}, parent)
			if err != nil {
				return nil, err
			}
			v.EgressReady = append(v.EgressReady, ep)
		}
	}

	if *cfg.FlowLogs.Enabled {
		if err := newFlowLogs(ctx, name, args.ClusterName, vp, cfg.FlowLogs, t, parent); err != nil {
			return nil, err
		}
	}

	v.VpcID = vp.ID().ToStringOutput()
	v.CidrBlock = vp.CidrBlock
	for _, sn := range append(append([]*ec2.Subnet{}, public...), ingress...) {
		v.LoadBalancerSubnets = append(v.LoadBalancerSubnets, sn)
	}
	v.IngressSubnetIDs = ids(ingress)
	v.CIDRs = CIDRs{Public: prefixes(layout.Public), Private: prefixes(layout.Private), Database: prefixes(layout.Database), Ingress: prefixes(layout.Ingress)}
	v.PublicSubnetIDs = ids(public)
	v.PrivateSubnetIDs = ids(private)
	v.DatabaseSubnetIDs = ids(database)
	rts := pulumi.StringArray{}
	for _, rt := range privateRTs {
		rts = append(rts, rt.ID())
	}
	v.PrivateRouteTableIDs = rts.ToStringArrayOutput()
	if out.gatewayIDs == nil {
		out.gatewayIDs = pulumi.StringArray{}
	}
	v.NatGatewayIDs = out.gatewayIDs.ToStringArrayOutput()
	v.NatInstance = out.natInstance
	if err := ctx.RegisterResourceOutputs(v, pulumi.Map{
		"vpcId":             v.VpcID,
		"publicSubnetIds":   v.PublicSubnetIDs,
		"privateSubnetIds":  v.PrivateSubnetIDs,
		"databaseSubnetIds": v.DatabaseSubnetIDs,
		"natGatewayIds":     v.NatGatewayIDs,
	}); err != nil {
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
func newFlowLogs(ctx *pulumi.Context, name, display string, vp *ec2.Vpc, cfg FlowLogs, t map[string]string, opts ...pulumi.ResourceOption) error {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/vpc/flow-logs/" + name + "-"),
		RetentionInDays: pulumi.Int(cfg.RetentionDays),
		Tags:            tags.Named(t, display+"-flow-logs"),
	}, opts...)
	if err != nil {
		return err
	}
	caller := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{})
	trust := iampolicy.AssumeRoleForService("vpc-flow-logs.amazonaws.com")
	trust.Statements[0].Conditions = []iampolicy.Condition{{
		Test: "StringEquals", Variable: pulumi.String("aws:SourceAccount"), Values: iampolicy.Inputs(caller.AccountId()),
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
