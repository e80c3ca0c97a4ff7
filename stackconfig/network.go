package stackconfig

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/dataplatform/dataplatform/internal/subnets"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// NatStrategy says how private subnets reach the internet.
type NatStrategy string

const (
	// NatNone creates no NAT gateway: private subnets reach AWS only through
	// VPC endpoints. Nodes then need every image from ECR through endpoints.
	NatNone NatStrategy = "None"
	// NatSingle creates one NAT gateway in the first zone, shared by all
	// zones: cheapest, but a zone outage cuts every zone's egress. For dev.
	NatSingle NatStrategy = "Single"
	// NatOnePerAz creates one NAT gateway per zone, so each zone's egress
	// survives the loss of another. The default, and what prod uses.
	NatOnePerAz NatStrategy = "OnePerAz"
	// NatInstance routes every zone through one small EC2 instance that
	// masquerades the private subnets (Amazon Linux 2023, configured as
	// AWS's VPC guide "Create a NAT AMI" says): about $7 a month against a
	// NAT gateway's $36, with no data processing charge, but its bandwidth
	// is the instance's (t4g.nano: 32 Mbit/s baseline, bursts to 5 Gbit/s),
	// it is one instance in one zone, and its public address changes when
	// it is replaced. For dev.
	NatInstance NatStrategy = "Instance"
)

// natStrategies are the accepted NatStrategy values.
var natStrategies = []NatStrategy{NatNone, NatSingle, NatOnePerAz, NatInstance}

// VPCEndpoint names an interface VPC endpoint that the component can create.
type VPCEndpoint string

// The interface endpoints the component knows. The S3 gateway endpoint is
// always created: it is free and keeps S3 traffic off the NAT gateways.
const (
	EndpointECRAPI VPCEndpoint = "ecr.api"
	EndpointECRDKR VPCEndpoint = "ecr.dkr"
	EndpointSTS    VPCEndpoint = "sts"
	EndpointLogs   VPCEndpoint = "logs"
)

// AllEndpoints lists every interface endpoint the component can create, in the
// order it creates them.
var AllEndpoints = []VPCEndpoint{EndpointECRAPI, EndpointECRDKR, EndpointSTS, EndpointLogs}

// retentionDays are the retention periods CloudWatch Logs accepts.

// Network is the plain configuration of a Vpc: everything that decides which
// resources exist. It is what the stack config section `dataplatform:network`
// holds. The zero value of every field means "use the default".
type Network struct {
	// CidrBlock is the VPC's IPv4 block. Default "10.0.0.0/16". Prefix
	// lengths from /16 to /24 are accepted; pick one that does not overlap
	// networks you will peer with.
	CidrBlock string `json:"cidrBlock,omitempty"`
	// AzCount is how many availability zones to spread over, from 2 (EKS
	// needs two) to 6. Default 3. Ignored when AvailabilityZones is set.
	AzCount int `json:"azCount,omitempty"`
	// AvailabilityZones pins the zones by name (such as "us-east-1a"). Default:
	// the region's first AzCount available zones. Pin them in production so a
	// new zone in the region never moves a subnet.
	AvailabilityZones []string `json:"availabilityZones,omitempty"`
	// NatStrategy is one of "None", "Single", "OnePerAz" or "Instance".
	// Default "OnePerAz".
	NatStrategy NatStrategy `json:"natStrategy,omitempty"`
	// NatInstanceType is the EC2 instance type of the NAT instance (with
	// natStrategy "Instance"), Graviton or x86; its architecture picks the
	// Amazon Linux 2023 image. Default "t4g.nano".
	NatInstanceType string `json:"natInstanceType,omitempty"`
	// Subnets sets the size of each tier's subnets.
	Subnets SubnetSizes `json:"subnets,omitempty"`
	// InterfaceEndpoints lists the interface endpoints to create, from
	// "ecr.api", "ecr.dkr", "sts" and "logs". Default (nil): all four. An
	// empty list creates none; each costs about $7 a month per zone.
	InterfaceEndpoints []VPCEndpoint `json:"interfaceEndpoints,omitempty"`
	// FlowLogs configures VPC flow logs to CloudWatch Logs.
	FlowLogs FlowLogs `json:"flowLogs,omitempty"`
	// Existing uses a VPC and subnets that already exist instead of creating
	// them; every other field is then ignored. The subnets must carry the
	// tags load balancers and Karpenter look for (the plan says which lack them).
	Existing *ExistingNetwork `json:"existing,omitempty"`
}

// ExistingNetwork names a VPC and its subnets, by ID.
type ExistingNetwork struct {
	// VpcID is the VPC, such as "vpc-0123456789abcdef0". Required.
	VpcID string `json:"vpcId"`
	// PrivateSubnetIDs host the nodes (at least two zones). They must be
	// tagged kubernetes.io/role/internal-elb=1 and karpenter.sh/discovery=<name>.
	PrivateSubnetIDs []string `json:"privateSubnetIds"`
	// DatabaseSubnetIDs host the RDS instances (at least two zones).
	DatabaseSubnetIDs []string `json:"databaseSubnetIds"`
	// PublicSubnetIDs host internet-facing load balancers; optional with
	// internal ones. They must be tagged kubernetes.io/role/elb=1.
	PublicSubnetIDs []string `json:"publicSubnetIds,omitempty"`
	// IngressSubnetIDs host internal load balancers and no pods (tagged
	// kubernetes.io/role/internal-elb=1, which the private subnets then
	// must not carry). Required with internal load balancers (the default
	// apps.ingress.scheme): the apps' NetworkPolicies admit the load
	// balancers by their subnets' blocks, which in the private subnets
	// would admit every pod to the apps' web ports too.
	IngressSubnetIDs []string `json:"ingressSubnetIds,omitempty"`
}

var (
	vpcIDPattern    = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDPattern = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
)

// Validate reports the problems of an ExistingNetwork that need no AWS call.
func (e ExistingNetwork) Validate() *validate.Problems {
	var p validate.Problems
	if !vpcIDPattern.MatchString(e.VpcID) {
		p.Addf("existing.vpcId", "want a VPC ID such as \"vpc-0123456789abcdef0\", got %q", e.VpcID)
	}
	for _, tier := range []struct {
		field string
		ids   []string
		min   int
	}{{"existing.privateSubnetIds", e.PrivateSubnetIDs, 2}, {"existing.databaseSubnetIds", e.DatabaseSubnetIDs, 2}, {"existing.publicSubnetIds", e.PublicSubnetIDs, 0}, {"existing.ingressSubnetIds", e.IngressSubnetIDs, 0}} {
		if len(tier.ids) < tier.min {
			p.Addf(tier.field, "want at least %d subnets in different zones, got %d", tier.min, len(tier.ids))
		}
		for i, id := range tier.ids {
			if !subnetIDPattern.MatchString(id) {
				p.Addf(validate.Index(tier.field, i), "want a subnet ID such as \"subnet-0123456789abcdef0\", got %q", id)
			}
		}
	}
	return &p
}

// SubnetSizes holds the prefix length of each tier's subnets. Defaults are
// relative to the VPC block: private subnets get an eighth of it each (a /19
// in a /16), public and database subnets a 256th (a /24 in a /16).
type SubnetSizes struct {
	// PublicPrefixLength is the prefix length of public subnets (load balancers, NAT).
	PublicPrefixLength int `json:"publicPrefixLength,omitempty"`
	// PrivatePrefixLength is the prefix length of private subnets (nodes and
	// pods, which take one VPC address each with the VPC CNI: make these large).
	PrivatePrefixLength int `json:"privatePrefixLength,omitempty"`
	// DatabasePrefixLength is the prefix length of database subnets.
	DatabasePrefixLength int `json:"databasePrefixLength,omitempty"`
	// IngressPrefixLength is the prefix length of ingress subnets, which
	// hold the internal load balancers and nothing else, so that the apps'
	// NetworkPolicies can admit the load balancers by address without
	// admitting every pod (pods take their addresses in the private
	// subnets). Default: a 1024th of the VPC block (a /26 in a /16), at
	// most /27, the smallest subnet a load balancer takes.
	IngressPrefixLength int `json:"ingressPrefixLength,omitempty"`
}

// FlowLogs configures the VPC's flow logs.
type FlowLogs struct {
	// Enabled turns flow logs on. Default true.
	Enabled *bool `json:"enabled,omitempty"`
	// RetentionDays is how long CloudWatch Logs keeps them, one of the periods
	// it accepts (1, 3, 5, 7, 14, 30, 60, 90, ...). Default 90.
	RetentionDays int `json:"retentionDays,omitempty"`
	// TrafficType is "ALL", "ACCEPT" or "REJECT". Default "ALL".
	TrafficType string `json:"trafficType,omitempty"`
}

// WithDefaults returns c with every unset field given its default.
func (c Network) WithDefaults() Network {
	if c.CidrBlock == "" {
		c.CidrBlock = "10.0.0.0/16"
	}
	if len(c.AvailabilityZones) > 0 {
		c.AzCount = len(c.AvailabilityZones)
	}
	if c.AzCount == 0 {
		c.AzCount = 3
	}
	if c.NatStrategy == "" {
		c.NatStrategy = NatOnePerAz
	}
	if c.NatStrategy == NatInstance && c.NatInstanceType == "" {
		c.NatInstanceType = "t4g.nano"
	}
	if p, err := netip.ParsePrefix(c.CidrBlock); err == nil {
		if c.Subnets.PrivatePrefixLength == 0 {
			c.Subnets.PrivatePrefixLength = min(p.Bits()+3, 28)
		}
		if c.Subnets.PublicPrefixLength == 0 {
			c.Subnets.PublicPrefixLength = min(p.Bits()+8, 28)
		}
		if c.Subnets.DatabasePrefixLength == 0 {
			c.Subnets.DatabasePrefixLength = min(p.Bits()+8, 28)
		}
		if c.Subnets.IngressPrefixLength == 0 {
			c.Subnets.IngressPrefixLength = min(p.Bits()+10, 27)
		}
	}
	if c.InterfaceEndpoints == nil {
		c.InterfaceEndpoints = slices.Clone(AllEndpoints)
	}
	if c.FlowLogs.Enabled == nil {
		on := true
		c.FlowLogs.Enabled = &on
	}
	if c.FlowLogs.RetentionDays == 0 {
		c.FlowLogs.RetentionDays = 90
	}
	if c.FlowLogs.TrafficType == "" {
		c.FlowLogs.TrafficType = "ALL"
	}
	return c
}

var zoneName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d[a-z]$`)

// Validate reports every problem of a defaulted Network, with field paths
// relative to the config section (such as "cidrBlock").
func (c Network) Validate() *validate.Problems {
	if c.Existing != nil {
		return c.Existing.Validate()
	}
	var p validate.Problems
	vpc, err := netip.ParsePrefix(c.CidrBlock)
	switch {
	case err != nil || !vpc.Addr().Is4():
		p.Addf("cidrBlock", "want an IPv4 CIDR block such as \"10.0.0.0/16\", got %q", c.CidrBlock)
	case vpc.Bits() < 16 || vpc.Bits() > 24:
		p.Addf("cidrBlock", "want a prefix length from /16 to /24, got %q", c.CidrBlock)
	case vpc.Masked() != vpc:
		p.Addf("cidrBlock", "want the network address of the block, got %q (did you mean %q?)", c.CidrBlock, vpc.Masked().String())
	}
	if c.AzCount < 2 || c.AzCount > 6 {
		p.Addf("azCount", "want 2 to 6 availability zones (EKS needs at least 2), got %d", c.AzCount)
	}
	seen := map[string]bool{}
	for i, z := range c.AvailabilityZones {
		if !zoneName.MatchString(z) {
			p.Addf(validate.Index("availabilityZones", i), "want a zone name such as \"us-east-1a\", got %q", z)
		}
		if seen[z] {
			p.Addf(validate.Index("availabilityZones", i), "zone %q is listed twice", z)
		}
		seen[z] = true
	}
	if !slices.Contains(natStrategies, c.NatStrategy) {
		p.Addf("natStrategy", "want %s, got %q", validate.OneOf(natStrategies...), c.NatStrategy)
	}
	switch {
	case c.NatInstanceType != "" && c.NatStrategy != NatInstance && slices.Contains(natStrategies, c.NatStrategy):
		p.Addf("natInstanceType", "only with natStrategy %q (natStrategy is %q); remove it", NatInstance, c.NatStrategy)
	case c.NatInstanceType != "" && !instanceType.MatchString(c.NatInstanceType):
		p.Addf("natInstanceType", "want an EC2 instance type such as \"t4g.nano\", got %q", c.NatInstanceType)
	}
	sizesOK := true
	for _, s := range []struct {
		field string
		v     int
	}{
		{"subnets.publicPrefixLength", c.Subnets.PublicPrefixLength},
		{"subnets.privatePrefixLength", c.Subnets.PrivatePrefixLength},
		{"subnets.databasePrefixLength", c.Subnets.DatabasePrefixLength},
		{"subnets.ingressPrefixLength", c.Subnets.IngressPrefixLength},
	} {
		lo := 16
		if err == nil && vpc.Bits() > lo {
			lo = vpc.Bits()
		}
		if s.v == 0 && err != nil {
			continue // its default derives from cidrBlock, which is already reported
		}
		hi, why := 28, "the smallest subnet AWS allows"
		if s.field == "subnets.ingressPrefixLength" {
			hi, why = 27, "the smallest subnet a load balancer takes (ELB user guide: a /27 bitmask, 8 free addresses)"
		}
		if s.v < lo || s.v > hi {
			p.Addf(s.field, "want a prefix length from %d (the VPC's) to %d (%s), got %d", lo, hi, why, s.v)
			sizesOK = false
		}
	}
	if p.Len() == 0 && sizesOK {
		if _, perr := subnets.Plan(c.subnetRequest(vpc)); perr != nil {
			p.Addf("cidrBlock", "subnets do not fit: %v; use a larger block, fewer zones or smaller subnets", perr)
		}
	}
	seenEP := map[VPCEndpoint]bool{}
	for i, e := range c.InterfaceEndpoints {
		if !slices.Contains(AllEndpoints, e) {
			p.Addf(validate.Index("interfaceEndpoints", i), "want %s, got %q", validate.OneOf(AllEndpoints...), e)
		}
		if seenEP[e] {
			p.Addf(validate.Index("interfaceEndpoints", i), "endpoint %q is listed twice", e)
		}
		seenEP[e] = true
	}
	if !slices.Contains(retentionDays, c.FlowLogs.RetentionDays) {
		p.Addf("flowLogs.retentionDays", "want a period CloudWatch Logs accepts (%v), got %d", retentionDays, c.FlowLogs.RetentionDays)
	}
	if !slices.Contains([]string{"ALL", "ACCEPT", "REJECT"}, c.FlowLogs.TrafficType) {
		p.Addf("flowLogs.trafficType", "want %s, got %q", validate.OneOf("ALL", "ACCEPT", "REJECT"), c.FlowLogs.TrafficType)
	}
	return &p
}

func (c Network) subnetRequest(vpc netip.Prefix) subnets.Request {
	return subnets.Request{
		VpcCidr:        vpc,
		Zones:          c.AzCount,
		PublicPrefix:   c.Subnets.PublicPrefixLength,
		PrivatePrefix:  c.Subnets.PrivatePrefixLength,
		DatabasePrefix: c.Subnets.DatabasePrefixLength,
		IngressPrefix:  c.Subnets.IngressPrefixLength,
	}
}

// NatInstanceArchitecture is the CPU architecture of the NAT instance type,
// as Amazon Linux's image parameters name it: "arm64" for a Graviton type,
// "x86_64" otherwise.
func (c Network) NatInstanceArchitecture() string {
	if a, _ := ArchitectureOf(c.NatInstanceType); a == ArchARM64 {
		return "arm64"
	}
	return "x86_64"
}

// Layout returns the subnet blocks of a valid, defaulted Network.
func (c Network) Layout() (subnets.Layout, error) {
	vpc, err := netip.ParsePrefix(c.CidrBlock)
	if err != nil {
		return subnets.Layout{}, fmt.Errorf("cidrBlock: %w", err)
	}
	return subnets.Plan(c.subnetRequest(vpc))
}
