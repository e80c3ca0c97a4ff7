package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/subnets"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// vpcBuild is NewVpc's work in named steps: what each step makes, the
// next ones use.
type vpcBuild struct {
	ctx     *pulumi.Context
	name    string
	cluster string
	cfg     Config
	layout  subnets.Layout
	zones   []string
	region  string
	t       map[string]string
	v       *Vpc
	parent  pulumi.ResourceOption

	vp                                 *ec2.Vpc
	igw                                *ec2.InternetGateway
	public, private, database, ingress []*ec2.Subnet
	publicReady                        []pulumi.Resource
	privateRTs                         []*ec2.RouteTable
	databaseRT                         *ec2.RouteTable
}

// core makes the VPC, adopts its default security group with no rules
// (which removes the rules AWS puts in it, so nothing that lands in it by
// mistake can talk), and the internet gateway.
func (b *vpcBuild) core() error {
	var err error
	b.vp, err = ec2.NewVpc(b.ctx, b.name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(b.cfg.CidrBlock),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags.Named(b.t, b.cluster),
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := ec2.NewDefaultSecurityGroup(b.ctx, b.name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId:   b.vp.ID(),
		Ingress: ec2.DefaultSecurityGroupIngressArray{},
		Egress:  ec2.DefaultSecurityGroupEgressArray{},
		Tags:    tags.Named(b.t, b.cluster+"-default-do-not-use"),
	}, b.parent); err != nil {
		return err
	}
	b.igw, err = ec2.NewInternetGateway(b.ctx, b.name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: b.vp.ID(),
		Tags:  tags.Named(b.t, b.cluster),
	}, b.parent)
	return err
}

// subnets makes the four tiers' subnets in each zone. Ingress subnets
// hold internal load balancers only: no pod takes an address there, so
// the apps' NetworkPolicies admit these blocks and no pod. They need no
// route but the VPC's own (the main table's).
func (b *vpcBuild) subnets() error {
	tiers := []struct {
		tier   string
		blocks func(i int) string
		extra  map[string]string
		into   *[]*ec2.Subnet
	}{
		{"public", func(i int) string { return b.layout.Public[i].String() }, map[string]string{TagELB: "1"}, &b.public},
		{"private", func(i int) string { return b.layout.Private[i].String() }, map[string]string{TagKarpenterDiscovery: b.cluster}, &b.private},
		{"database", func(i int) string { return b.layout.Database[i].String() }, map[string]string{}, &b.database},
		{"ingress", func(i int) string { return b.layout.Ingress[i].String() }, map[string]string{TagInternalELB: "1"}, &b.ingress},
	}
	for i, z := range b.zones {
		for _, tier := range tiers {
			extra := map[string]string{"tier": tier.tier}
			for k, v := range tier.extra {
				extra[k] = v
			}
			s, err := newSubnet(b.ctx, fmt.Sprintf("%s-%s-%s", b.name, tier.tier, z), b.vp, tier.blocks(i), z,
				tags.Named(b.t, fmt.Sprintf("%s-%s-%s", b.cluster, tier.tier, z), extra), b.parent)
			if err != nil {
				return err
			}
			*tier.into = append(*tier.into, s)
		}
	}
	return nil
}

// publicRouting makes the public subnets' one table, whose default route
// goes to the internet gateway.
func (b *vpcBuild) publicRouting() error {
	rt, err := ec2.NewRouteTable(b.ctx, b.name+"-public", &ec2.RouteTableArgs{
		VpcId: b.vp.ID(),
		Tags:  tags.Named(b.t, b.cluster+"-public"),
	}, b.parent)
	if err != nil {
		return err
	}
	route, err := ec2.NewRoute(b.ctx, b.name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         rt.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            b.igw.ID(),
	}, b.parent)
	if err != nil {
		return err
	}
	// What a NAT instance needs to reach the internet as it boots.
	b.publicReady = []pulumi.Resource{b.igw, route}
	for i, s := range b.public {
		assoc, err := associate(b.ctx, fmt.Sprintf("%s-public-%s", b.name, b.zones[i]), s, rt, b.parent)
		if err != nil {
			return err
		}
		b.publicReady = append(b.publicReady, assoc)
	}
	return nil
}

// privateRouting makes the NAT, in the public subnets, and a table per
// zone for the private subnets, so that moving between NAT strategies
// only changes routes, never associations.
func (b *vpcBuild) privateRouting() (egress, error) {
	var privateCIDRs []string
	for _, p := range b.layout.Private {
		privateCIDRs = append(privateCIDRs, p.String())
	}
	out, err := newEgress(b.ctx, natNet{name: b.name, cluster: b.cluster, cfg: b.cfg, zones: b.zones, vpc: b.vp, igw: b.igw,
		public: b.public, publicReady: b.publicReady, privateCIDRs: privateCIDRs, tags: b.t}, b.parent)
	if err != nil {
		return out, err
	}
	for i, z := range b.zones {
		rt, err := ec2.NewRouteTable(b.ctx, fmt.Sprintf("%s-private-%s", b.name, z), &ec2.RouteTableArgs{
			VpcId: b.vp.ID(),
			Tags:  tags.Named(b.t, fmt.Sprintf("%s-private-%s", b.cluster, z)),
		}, b.parent)
		if err != nil {
			return out, err
		}
		b.privateRTs = append(b.privateRTs, rt)
		if out.route != nil {
			routeArgs := &ec2.RouteArgs{RouteTableId: rt.ID(), DestinationCidrBlock: pulumi.String("0.0.0.0/0")}
			out.route(i, routeArgs)
			route, err := ec2.NewRoute(b.ctx, fmt.Sprintf("%s-private-%s-default", b.name, z), routeArgs, b.parent)
			if err != nil {
				return out, err
			}
			b.v.EgressReady = append(b.v.EgressReady, route)
		}
		if _, err := associate(b.ctx, fmt.Sprintf("%s-private-%s", b.name, z), b.private[i], rt, b.parent); err != nil {
			return out, err
		}
	}
	return out, nil
}

// databaseRouting makes the database subnets' one table, with no route
// out of the VPC.
func (b *vpcBuild) databaseRouting() error {
	var err error
	b.databaseRT, err = ec2.NewRouteTable(b.ctx, b.name+"-database", &ec2.RouteTableArgs{
		VpcId: b.vp.ID(),
		Tags:  tags.Named(b.t, b.cluster+"-database"),
	}, b.parent)
	if err != nil {
		return err
	}
	for i, s := range b.database {
		if _, err := associate(b.ctx, fmt.Sprintf("%s-database-%s", b.name, b.zones[i]), s, b.databaseRT, b.parent); err != nil {
			return err
		}
	}
	return nil
}

// endpoints makes the S3 gateway endpoint on the private and database
// tables, and the interface endpoints in the private subnets behind a
// security group that admits HTTPS from the VPC.
func (b *vpcBuild) endpoints() error {
	gatewayRTs := pulumi.StringArray{}
	for _, rt := range b.privateRTs {
		gatewayRTs = append(gatewayRTs, rt.ID())
	}
	gatewayRTs = append(gatewayRTs, b.databaseRT.ID())
	s3, err := ec2.NewVpcEndpoint(b.ctx, b.name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           b.vp.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", b.region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   gatewayRTs,
		Tags:            tags.Named(b.t, b.cluster+"-s3"),
	}, b.parent)
	if err != nil {
		return err
	}
	b.v.EgressReady = append(b.v.EgressReady, s3)
	if len(b.cfg.InterfaceEndpoints) == 0 {
		return nil
	}
	sg, err := ec2.NewSecurityGroup(b.ctx, b.name+"-endpoints", &ec2.SecurityGroupArgs{
		VpcId:       b.vp.ID(),
		Description: pulumi.String("HTTPS from inside the VPC to interface endpoints"),
		Tags:        tags.Named(b.t, b.cluster+"-endpoints"),
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(b.ctx, b.name+"-endpoints-https", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String("HTTPS from the VPC"),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(443),
		ToPort:          pulumi.Int(443),
		CidrIpv4:        pulumi.String(b.cfg.CidrBlock),
		Tags:            tags.Named(b.t, b.cluster+"-endpoints-https"),
	}, b.parent); err != nil {
		return err
	}
	subnetIDs := pulumi.StringArray{}
	for _, s := range b.private {
		subnetIDs = append(subnetIDs, s.ID())
	}
	for _, e := range b.cfg.InterfaceEndpoints {
		ep, err := ec2.NewVpcEndpoint(b.ctx, fmt.Sprintf("%s-%s", b.name, e), &ec2.VpcEndpointArgs{
			VpcId:             b.vp.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", b.region, string(e)),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnetIDs,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			Tags:              tags.Named(b.t, fmt.Sprintf("%s-%s", b.cluster, e)),
		}, b.parent)
		if err != nil {
			return err
		}
		b.v.EgressReady = append(b.v.EgressReady, ep)
	}
	return nil
}

// outputs fills the component's outputs and registers them.
func (b *vpcBuild) outputs(out egress) error {
	v := b.v
	v.VpcID = b.vp.ID().ToStringOutput()
	v.CidrBlock = b.vp.CidrBlock
	for _, sn := range append(append([]*ec2.Subnet{}, b.public...), b.ingress...) {
		v.LoadBalancerSubnets = append(v.LoadBalancerSubnets, sn)
	}
	v.IngressSubnetIDs = ids(b.ingress)
	l := b.layout
	v.CIDRs = CIDRs{Public: prefixes(l.Public), Private: prefixes(l.Private), Database: prefixes(l.Database), Ingress: prefixes(l.Ingress)}
	v.PublicSubnetIDs = ids(b.public)
	v.PrivateSubnetIDs = ids(b.private)
	v.DatabaseSubnetIDs = ids(b.database)
	rts := pulumi.StringArray{}
	for _, rt := range b.privateRTs {
		rts = append(rts, rt.ID())
	}
	v.PrivateRouteTableIDs = rts.ToStringArrayOutput()
	if out.gatewayIDs == nil {
		out.gatewayIDs = pulumi.StringArray{}
	}
	v.NatGatewayIDs = out.gatewayIDs.ToStringArrayOutput()
	v.NatInstance = out.natInstance
	return b.ctx.RegisterResourceOutputs(v, pulumi.Map{
		"vpcId":             v.VpcID,
		"publicSubnetIds":   v.PublicSubnetIDs,
		"privateSubnetIds":  v.PrivateSubnetIDs,
		"databaseSubnetIds": v.DatabaseSubnetIDs,
		"natGatewayIds":     v.NatGatewayIDs,
	})
}
