package mocks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// ExistingVpcID is a VPC that the mocked account already has, for plans of
// stacks that bring their own network (dataplatform:network.existing).
const ExistingVpcID = "vpc-0e1d2c3b4a5968778"

// ExistingSubnet is a subnet the mocked account already has.
type ExistingSubnet struct {
	VpcID string
	// Zone is the zone's letter; the region comes from the mocks.
	Zone string
	Cidr string
	Tags map[string]string
}

// ExistingSubnets are the subnets of the mocked account, by ID: private ones
// tagged for the cluster "dataplatform-byo", ingress ones for internal load
// balancers, public ones for internet-facing ones, database ones untagged,
// and, to show what validation reports, one private subnet without tags and
// one in another VPC.
var ExistingSubnets = map[string]ExistingSubnet{
	"subnet-0a1a1a1a1a1a1a1a1": {ExistingVpcID, "a", "10.50.0.0/19", map[string]string{"karpenter.sh/discovery": "dataplatform-byo"}},
	"subnet-0b1b1b1b1b1b1b1b1": {ExistingVpcID, "b", "10.50.32.0/19", map[string]string{"karpenter.sh/discovery": "dataplatform-byo"}},
	"subnet-0a2a2a2a2a2a2a2a2": {ExistingVpcID, "a", "10.50.64.0/24", map[string]string{"kubernetes.io/role/elb": "1"}},
	"subnet-0b2b2b2b2b2b2b2b2": {ExistingVpcID, "b", "10.50.65.0/24", map[string]string{"kubernetes.io/role/elb": "1"}},
	"subnet-0a3a3a3a3a3a3a3a3": {ExistingVpcID, "a", "10.50.66.0/24", map[string]string{}},
	"subnet-0b3b3b3b3b3b3b3b3": {ExistingVpcID, "b", "10.50.67.0/24", map[string]string{}},
	"subnet-0c9c9c9c9c9c9c9c9": {ExistingVpcID, "c", "10.50.96.0/19", map[string]string{}},
	// Ingress subnets: internal load balancers only, no nodes.
	"subnet-0a4a4a4a4a4a4a4a4": {ExistingVpcID, "a", "10.50.128.0/26", map[string]string{"kubernetes.io/role/internal-elb": "1"}},
	"subnet-0b4b4b4b4b4b4b4b4": {ExistingVpcID, "b", "10.50.128.64/26", map[string]string{"kubernetes.io/role/internal-elb": "1"}},
	"subnet-0d8d8d8d8d8d8d8d8": {"vpc-0ffffffffffffffff", "a", "172.31.0.0/20", map[string]string{"kubernetes.io/role/internal-elb": "1"}},
}

// lookupSubnet answers aws:ec2/getSubnet:getSubnet from ExistingSubnets.
func (m *Mocks) lookupSubnet(args resource.PropertyMap) (resource.PropertyMap, error) {
	id := ""
	if v, ok := args["id"]; ok && v.IsString() {
		id = v.StringValue()
	}
	s, ok := ExistingSubnets[id]
	if !ok {
		return nil, fmt.Errorf("InvalidSubnetID.NotFound: the subnet ID '%s' does not exist", id)
	}
	tags := resource.PropertyMap{}
	for k, v := range s.Tags {
		tags[resource.PropertyKey(k)] = resource.NewProperty(v)
	}
	return resource.PropertyMap{
		"id":               resource.NewProperty(id),
		"vpcId":            resource.NewProperty(s.VpcID),
		"availabilityZone": resource.NewProperty(m.Region + s.Zone),
		"cidrBlock":        resource.NewProperty(s.Cidr),
		"tags":             resource.NewProperty(tags),
		"arn":              resource.NewProperty(fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", m.Region, m.Account, id)),
	}, nil
}
