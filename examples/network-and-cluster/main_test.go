package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

// TestProgramRunsUnderMocks runs the example as `pulumi up` would, offline,
// so that an API change that breaks this program breaks CI.
func TestProgramRunsUnderMocks(t *testing.T) {
	p, err := plan.Run(plan.Options{
		Project: "network-and-cluster", Stack: "dev", Program: program,
		Config: map[string]string{
			"aws:region":                       "us-east-1",
			"network-and-cluster:adminRoleArn": "arn:aws:iam::123456789012:role/platform-admin",
		},
	})
	require.NoError(t, err)
	n := p.Count()
	assert.Equal(t, 1, n["aws:ec2/vpc:Vpc"])
	assert.Equal(t, 8, n["aws:ec2/subnet:Subnet"], "public, private, database and ingress, in two zones")
	assert.Equal(t, 1, n["eks:index:Cluster"])
	assert.Equal(t, 1, n["aws:eks/nodeGroup:NodeGroup"])
	assert.Equal(t, "analytics", p.Outputs["clusterName"])
	assert.Equal(t, "[secret]", p.Outputs["kubeconfig"])
}
