package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
)

// byoOptions is the dev stack on a network that already exists (the mocked
// account's fixture, internal/mocks.ExistingSubnets).
func byoOptions(t *testing.T, private []string) plan.Options {
	opts := stackOptions(t, "dev")
	opts.Config["dataplatform:name"] = "dataplatform-byo"
	setSection(t, opts, "dataplatform:network", map[string]any{"existing": map[string]any{
		"vpcId":             mocks.ExistingVpcID,
		"privateSubnetIds":  private,
		"publicSubnetIds":   []string{"subnet-0a2a2a2a2a2a2a2a2", "subnet-0b2b2b2b2b2b2b2b2"},
		"databaseSubnetIds": []string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"},
		"ingressSubnetIds":  []string{"subnet-0a4a4a4a4a4a4a4a4", "subnet-0b4b4b4b4b4b4b4b4"},
	}})
	return opts
}

func TestExistingNetworkCreatesNoVpcAndPutsTheClusterInItsSubnets(t *testing.T) {
	private := []string{"subnet-0a1a1a1a1a1a1a1a1", "subnet-0b1b1b1b1b1b1b1b1"}
	p, err := plan.Run(byoOptions(t, private))
	require.NoError(t, err)
	n := p.Count()
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "dataplatform:network:Vpc"} {
		assert.Zero(t, n[typ], typ)
	}
	eks := p.Find("eks:index:Cluster")[0]
	assert.Equal(t, mocks.ExistingVpcID, eks.Inputs["vpcId"])
	assert.ElementsMatch(t, []any{"subnet-0a1a1a1a1a1a1a1a1", "subnet-0b1b1b1b1b1b1b1b1"}, eks.Inputs["subnetIds"])
	ng := p.Find("aws:eks/nodeGroup:NodeGroup")[0]
	assert.ElementsMatch(t, eks.Inputs["subnetIds"], ng.Inputs["subnetIds"])
	for _, sg := range p.Find("aws:rds/subnetGroup:SubnetGroup") {
		assert.ElementsMatch(t, []any{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b3b3b3b3b3b3b3b3"}, sg.Inputs["subnetIds"])
	}
	assert.Equal(t, mocks.ExistingVpcID, values(t, p, "load-balancer-controller")["vpcId"])
	assert.Equal(t, []any{"us-east-1a", "us-east-1b"}, p.Outputs["availabilityZones"])
}

func TestExistingNetworkWithoutTheTagsIsRejected(t *testing.T) {
	private := []string{"subnet-0c9c9c9c9c9c9c9c9", "subnet-0d8d8d8d8d8d8d8d8", "subnet-0000000000000000f"}
	p, err := plan.Run(byoOptions(t, private))
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`dataplatform:network.existing.privateSubnetIds[0]: subnet "subnet-0c9c9c9c9c9c9c9c9" lacks the tag karpenter.sh/discovery=dataplatform-byo`,
		`dataplatform:network.existing.privateSubnetIds[1]: subnet "subnet-0d8d8d8d8d8d8d8d8" is tagged kubernetes.io/role/internal-elb=1, but existing.ingressSubnetIds hold the internal load balancers`,
		`dataplatform:network.existing.privateSubnetIds[1]: subnet "subnet-0d8d8d8d8d8d8d8d8" is in vpc-0ffffffffffffffff, not in existing.vpcId ` + mocks.ExistingVpcID,
		`dataplatform:network.existing.privateSubnetIds[2]: subnet "subnet-0000000000000000f" was not found`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.Empty(t, p.Resources, "nothing is created on a network that does not fit")

	opts := byoOptions(t, []string{"subnet-0a1a1a1a1a1a1a1a1"})
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataplatform:network.existing.privateSubnetIds: want at least 2 subnets in different zones, got 1")
}

func TestExistingNetworkNeedsSubnetsOfItsOwnForInternalLoadBalancers(t *testing.T) {
	// Without them the load balancers would share the pods' subnets, and
	// the policies that admit them by address would admit every pod.
	opts := byoOptions(t, []string{"subnet-0a1a1a1a1a1a1a1a1", "subnet-0b1b1b1b1b1b1b1b1"})
	existing := section(t, opts, "dataplatform:network")["existing"].(map[string]any)
	delete(existing, "ingressSubnetIds")
	setSection(t, opts, "dataplatform:network", map[string]any{"existing": existing})
	p, err := plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `dataplatform:network.existing.ingressSubnetIds: required with internal load balancers (apps.ingress.scheme "internal")`)
	assert.Empty(t, p.Resources)

	existing["ingressSubnetIds"] = []string{"subnet-0a3a3a3a3a3a3a3a3", "subnet-0b4b4b4b4b4b4b4b4"}
	setSection(t, opts, "dataplatform:network", map[string]any{"existing": existing})
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `dataplatform:network.existing.ingressSubnetIds[0]: subnet "subnet-0a3a3a3a3a3a3a3a3" lacks the tag kubernetes.io/role/internal-elb=1`)
}
