package network

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/validate"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// ExistingNetwork names a VPC and subnets that already exist; see stackconfig.ExistingNetwork.
type ExistingNetwork = stackconfig.ExistingNetwork

// Topology is what the rest of the platform needs from a network, whether
// NewVpc created it or Existing describes one already there.
type Topology struct {
	// VpcID is the VPC.
	VpcID pulumi.StringOutput
	// AvailabilityZones are the zones of the private subnets.
	AvailabilityZones []string
	// PublicSubnetIDs host internet-facing load balancers (may be empty).
	PublicSubnetIDs pulumi.StringArrayOutput
	// PrivateSubnetIDs host the nodes.
	PrivateSubnetIDs pulumi.StringArrayOutput
	// DatabaseSubnetIDs host the RDS instances.
	DatabaseSubnetIDs pulumi.StringArrayOutput
	// NatGatewayIDs are the NAT gateways the platform created (none for an existing network).
	NatGatewayIDs pulumi.StringArrayOutput
	// EgressReady are what nodes wait for (none for an existing network).
	EgressReady []pulumi.Resource
	// LoadBalancerSubnets are the subnets the platform created that hold
	// load balancers (none for an existing network); see Vpc.
	LoadBalancerSubnets []pulumi.Resource
	// CIDRs are the subnets' blocks, by tier.
	CIDRs CIDRs
}

// Topology returns the network the VPC provides.
func (v *Vpc) Topology() *Topology {
	return &Topology{
		VpcID: v.VpcID, AvailabilityZones: v.AvailabilityZones,
		PublicSubnetIDs: v.PublicSubnetIDs, PrivateSubnetIDs: v.PrivateSubnetIDs, DatabaseSubnetIDs: v.DatabaseSubnetIDs,
		NatGatewayIDs: v.NatGatewayIDs, EgressReady: v.EgressReady, LoadBalancerSubnets: v.LoadBalancerSubnets,
		CIDRs: v.CIDRs,
	}
}

// Existing checks an existing network (see CheckExisting) and returns its Topology.
func Existing(ctx *pulumi.Context, e ExistingNetwork, clusterName string, opts ...pulumi.InvokeOption) (*Topology, error) {
	zones, err := CheckExisting(ctx, e, clusterName, opts...)
	if err != nil {
		return nil, err
	}
	return ExistingTopology(e, zones), nil
}

// CheckExisting looks the subnets of e up and checks that they are in the VPC,
// spread over at least two zones per tier, and tagged for load balancers
// and for Karpenter (discovery value clusterName). It creates nothing; every
// problem is reported at once, with field paths relative to the network
// config section.
// It returns the zones of the private subnets.
func CheckExisting(ctx *pulumi.Context, e ExistingNetwork, clusterName string, opts ...pulumi.InvokeOption) ([]string, error) {
	problems := e.Validate()
	if err := problems.Err(); err != nil {
		return nil, err
	}
	var p validate.Problems
	zonesOf := func(field string, ids []string, want map[string]string) []string {
		zones := map[string]bool{}
		for i, id := range ids {
			f := validate.Index(field, i)
			id := id
			s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: &id}, opts...)
			if err != nil {
				p.Addf(f, "subnet %q was not found in this account and region: %v", id, err)
				continue
			}
			if s.VpcId != e.VpcID {
				p.Addf(f, "subnet %q is in %s, not in existing.vpcId %s", id, s.VpcId, e.VpcID)
			}
			zones[s.AvailabilityZone] = true
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if got, ok := s.Tags[k]; !ok || got != want[k] {
					p.Addf(f, "subnet %q lacks the tag %s=%s (found %q): load balancers and Karpenter find subnets by it", id, k, want[k], got)
				}
			}
		}
		out := make([]string, 0, len(zones))
		for z := range zones {
			out = append(out, z)
		}
		sort.Strings(out)
		if len(ids) > 0 && len(out) < 2 && p.Len() == 0 {
			p.Addf(field, "want subnets in at least 2 zones, got %v", out)
		}
		return out
	}
	privateTags := map[string]string{TagInternalELB: "1", TagKarpenterDiscovery: clusterName}
	if len(e.IngressSubnetIDs) > 0 {
		privateTags = map[string]string{TagKarpenterDiscovery: clusterName}
		zonesOf("existing.ingressSubnetIds", e.IngressSubnetIDs, map[string]string{TagInternalELB: "1"})
		for i, id := range e.PrivateSubnetIDs {
			id := id
			if s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: &id}, opts...); err == nil && s.Tags[TagInternalELB] == "1" {
				p.Addf(validate.Index("existing.privateSubnetIds", i), "subnet %q is tagged %s=1, but existing.ingressSubnetIds hold the internal load balancers: remove the tag, or the load balancer controller may place them among the pods", id, TagInternalELB)
			}
		}
	}
	zones := zonesOf("existing.privateSubnetIds", e.PrivateSubnetIDs, privateTags)
	zonesOf("existing.databaseSubnetIds", e.DatabaseSubnetIDs, nil)
	zonesOf("existing.publicSubnetIds", e.PublicSubnetIDs, map[string]string{TagELB: "1"})
	if err := p.Err(); err != nil {
		return nil, err
	}
	return zones, nil
}

// ExistingTopology describes an existing network whose private subnets are
// in zones, as CheckExisting found them.
func ExistingTopology(e ExistingNetwork, zones []string) *Topology {
	return &Topology{
		VpcID:             pulumi.String(e.VpcID).ToStringOutput(),
		AvailabilityZones: zones,
		PublicSubnetIDs:   pulumi.ToStringArray(e.PublicSubnetIDs).ToStringArrayOutput(),
		PrivateSubnetIDs:  pulumi.ToStringArray(e.PrivateSubnetIDs).ToStringArrayOutput(),
		DatabaseSubnetIDs: pulumi.ToStringArray(e.DatabaseSubnetIDs).ToStringArrayOutput(),
		NatGatewayIDs:     pulumi.StringArray{}.ToStringArrayOutput(),
	}
}

// ExistingCIDRs looks up the blocks of an existing network's subnets.
func ExistingCIDRs(ctx *pulumi.Context, e ExistingNetwork, opts ...pulumi.InvokeOption) (CIDRs, error) {
	lookup := func(ids []string) ([]string, error) {
		out := []string{}
		for _, id := range ids {
			id := id
			s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: &id}, opts...)
			if err != nil {
				return nil, fmt.Errorf("looking up subnet %s: %w", id, err)
			}
			out = append(out, s.CidrBlock)
		}
		return out, nil
	}
	var c CIDRs
	var err error
	for _, t := range []struct {
		ids []string
		to  *[]string
	}{{e.PublicSubnetIDs, &c.Public}, {e.PrivateSubnetIDs, &c.Private}, {e.DatabaseSubnetIDs, &c.Database}, {e.IngressSubnetIDs, &c.Ingress}} {
		if *t.to, err = lookup(t.ids); err != nil {
			return CIDRs{}, err
		}
	}
	return c, nil
}
