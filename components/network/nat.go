package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/tags"
)

// egress is the way out of the private subnets: the default route target
// of each zone (none without NAT), and the IDs of the NAT gateways made.
type egress struct {
	route       func(zone int, args *ec2.RouteArgs)
	gatewayIDs  pulumi.StringArray
	natInstance *ec2.Instance
}

// natNet is what the NAT builders need of the VPC being made.
type natNet struct {
	name, cluster string
	cfg           Config
	zones         []string
	vpc           *ec2.Vpc
	igw           *ec2.InternetGateway
	public        []*ec2.Subnet
	publicReady   []pulumi.Resource
	privateCIDRs  []string
	tags          map[string]string
}

// newEgress makes the NAT of cfg.NatStrategy in the public subnets.
func newEgress(ctx *pulumi.Context, n natNet, opts ...pulumi.ResourceOption) (egress, error) {
	switch n.cfg.NatStrategy {
	case NatInstance:
		return newNatInstance(ctx, n, opts...)
	case NatSingle:
		return newNatGateways(ctx, n, 1, opts...)
	case NatOnePerAz:
		return newNatGateways(ctx, n, len(n.zones), opts...)
	}
	return egress{}, nil
}

// newNatGateways makes count NAT gateways, one in each of the first count
// zones; a zone without its own uses the first zone's.
func newNatGateways(ctx *pulumi.Context, n natNet, count int, opts ...pulumi.ResourceOption) (egress, error) {
	var nats []*ec2.NatGateway
	for i := 0; i < count; i++ {
		z := n.zones[i]
		eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", n.name, z), &ec2.EipArgs{
			Domain: pulumi.String("vpc"),
			Tags:   tags.Named(n.tags, fmt.Sprintf("%s-nat-%s", n.cluster, z)),
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{n.igw}))...)
		if err != nil {
			return egress{}, err
		}
		nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-nat-%s", n.name, z), &ec2.NatGatewayArgs{
			AllocationId: eip.AllocationId,
			SubnetId:     n.public[i].ID(),
			Tags:         tags.Named(n.tags, fmt.Sprintf("%s-nat-%s", n.cluster, z)),
		}, opts...)
		if err != nil {
			return egress{}, err
		}
		nats = append(nats, nat)
	}
	e := egress{gatewayIDs: pulumi.StringArray{}}
	for _, nat := range nats {
		e.gatewayIDs = append(e.gatewayIDs, nat.ID())
	}
	e.route = func(zone int, args *ec2.RouteArgs) {
		if zone >= len(nats) {
			zone = 0
		}
		args.NatGatewayId = nats[zone].ID()
	}
	return e, nil
}

// natImageParameter is the public SSM parameter holding the latest Amazon
// Linux 2023 image of an architecture ("arm64" or "x86_64").
func natImageParameter(arch string) string {
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + arch
}

// natUserData turns Amazon Linux 2023 into a NAT for the VPC's block, as
// AWS's VPC user guide says ("Create a NAT AMI"): iptables-services keeps
// the rules across reboots, a sysctl file keeps forwarding on, the chain
// FORWARD loses the package's REJECT rule, and the private subnets are
// masqueraded behind the instance's public address. The package install
// retries while the instance's network comes up.
func natUserData(vpcCIDR string) string {
	return fmt.Sprintf(`#!/bin/bash
set -euo pipefail
for i in $(seq 1 30); do dnf install -y iptables-services && break; sleep 10; done
rpm -q iptables-services
systemctl enable --now iptables
echo "net.ipv4.ip_forward=1" > /etc/sysctl.d/90-nat.conf
sysctl -p /etc/sysctl.d/90-nat.conf
iface=$(ip route show default | awk '{print $5; exit}')
iptables -t nat -A POSTROUTING -o "$iface" -s %s -j MASQUERADE
iptables -F FORWARD
service iptables save
`, vpcCIDR)
}

// newNatInstance makes one NAT instance in the first public subnet, with
// a public address of its own, and routes every zone through it. Its
// security group admits only the private subnets. It has no key pair and
// no instance profile: nothing logs in, and it calls no AWS API. A new
// Amazon Linux release does not replace it (the image is read once, at
// creation): `pulumi up --replace` on it picks up the latest.
func newNatInstance(ctx *pulumi.Context, n natNet, opts ...pulumi.ResourceOption) (egress, error) {
	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: natImageParameter(n.cfg.NatInstanceArchitecture())})
	if err != nil {
		return egress{}, fmt.Errorf("looking up the NAT instance's image: %w", err)
	}
	name := n.name + "-nat-instance"
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       n.vpc.ID(),
		Description: pulumi.Sprintf("NAT instance of %s: all traffic from the private subnets, out to the internet", n.cluster),
		Tags:        tags.Named(n.tags, n.cluster+"-nat"),
	}, opts...)
	if err != nil {
		return egress{}, err
	}
	for i, cidr := range n.privateCIDRs {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-from-%s", name, n.zones[i]), &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(),
			Description:     pulumi.Sprintf("Traffic to the internet from private subnet %s", n.zones[i]),
			IpProtocol:      pulumi.String("-1"),
			CidrIpv4:        pulumi.String(cidr),
			Tags:            tags.Named(n.tags, fmt.Sprintf("%s-nat-from-%s", n.cluster, n.zones[i])),
		}, opts...); err != nil {
			return egress{}, err
		}
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-out", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String("Forwarded traffic to the internet"),
		IpProtocol:      pulumi.String("-1"),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
		Tags:            tags.Named(n.tags, n.cluster+"-nat-out"),
	}, opts...); err != nil {
		return egress{}, err
	}
	// Standard credits on a burstable type: the price is the list price,
	// never a surplus (EC2 refuses a credit specification on other types).
	var credits ec2.InstanceCreditSpecificationPtrInput
	if strings.HasPrefix(n.cfg.NatInstanceType, "t") {
		credits = &ec2.InstanceCreditSpecificationArgs{CpuCredits: pulumi.String("standard")}
	}
	inst, err := ec2.NewInstance(ctx, name, &ec2.InstanceArgs{
		Ami:                      pulumi.String(ami.Value),
		InstanceType:             pulumi.String(n.cfg.NatInstanceType),
		SubnetId:                 n.public[0].ID(),
		VpcSecurityGroupIds:      pulumi.StringArray{sg.ID()},
		AssociatePublicIpAddress: pulumi.Bool(true), // at launch: the user data installs a package
		SourceDestCheck:          pulumi.Bool(false),
		UserData:                 pulumi.String(natUserData(n.cfg.CidrBlock)),
		UserDataReplaceOnChange:  pulumi.Bool(true),
		CreditSpecification:      credits,
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(8), Encrypted: pulumi.Bool(true), DeleteOnTermination: pulumi.Bool(true),
		},
		MaintenanceOptions: &ec2.InstanceMaintenanceOptionsArgs{AutoRecovery: pulumi.String("default")},
		Tags:               tags.Named(n.tags, n.cluster+"-nat"),
		VolumeTags:         tags.Named(n.tags, n.cluster+"-nat"),
	}, append(opts, pulumi.DependsOn(n.publicReady), pulumi.IgnoreChanges([]string{"ami"}))...)
	if err != nil {
		return egress{}, err
	}
	return egress{
		gatewayIDs:  pulumi.StringArray{},
		natInstance: inst,
		route: func(_ int, args *ec2.RouteArgs) {
			args.NetworkInterfaceId = inst.PrimaryNetworkInterfaceId
		},
	}, nil
}
