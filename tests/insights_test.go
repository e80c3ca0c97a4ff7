package tests

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/insights"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/plan/cli"
)

func TestDevCostsLessThan200DollarsIdle(t *testing.T) {
	prices := insights.Prices()
	require.NotEmpty(t, prices.Date)
	for key, p := range prices.Prices {
		assert.NotEmpty(t, p.Source, "price %s has no source", key)
		assert.Positive(t, p.USD, key)
	}
	dev := insights.EstimateCost(stackPlan(t, "dev"), prices)
	assert.Empty(t, dev.Missing, "every dev resource that costs money has a price")
	assert.Less(t, dev.TotalUSD, 200.0, "dev's idle cost goal")
	prod := insights.EstimateCost(stackPlan(t, "prod"), prices)
	assert.Empty(t, prod.Missing)
	assert.Greater(t, prod.TotalUSD, dev.TotalUSD)

	what := map[string]int{}
	for _, l := range prod.Lines {
		what[l.Type]++
	}
	assert.Equal(t, 3, what["aws:ec2/natGateway:NatGateway"], "one NAT gateway per zone is billed")
	assert.Equal(t, 4, what["aws:ec2/vpcEndpoint:VpcEndpoint"], "interface endpoints only; the S3 gateway is free")
	assert.Equal(t, 1, what["kubernetes:helm.sh/v3:Release"], "the two ingresses share one load balancer")
	assert.Equal(t, 6, what["aws:rds/instance:Instance"], "two primaries, two replicas, and the two primaries' managed master secrets")
}

func TestMissingPricesAreReportedNotGuessed(t *testing.T) {
	p := clone(t, stackPlan(t, "dev"))
	first(t, p, "aws:eks/nodeGroup:NodeGroup").Inputs["instanceTypes"] = []any{"x9z.huge"}
	e := insights.EstimateCost(p, insights.Prices())
	require.Len(t, e.Missing, 1)
	assert.Equal(t, "ec2.instance.x9z.huge.hour", e.Missing[0].Price)
	var out bytes.Buffer
	require.NoError(t, e.WriteText(&out, insights.Prices()))
	assert.Contains(t, out.String(), "No price in the table")
}

func TestDataLayerIsCreatedBesideTheClusterNotBehindIt(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		eks := p.Find("aws:eks/cluster:Cluster")[0]
		for _, typ := range []string{"aws:rds/instance:Instance", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy", "aws:secretsmanager/secretVersion:SecretVersion", "aws:kms/key:Key"} {
			for _, r := range p.Find(typ) {
				assert.False(t, insights.DependsOn(p, r.URN, eks.URN), "%s: %s %s waits for the EKS cluster", stack, typ, r.Name)
			}
		}
		cp := insights.Critical(p)
		var chain []string
		for _, s := range cp.Chain {
			chain = append(chain, s.Type)
			assert.NotEqual(t, "aws:rds/instance:Instance", s.Type, "%s: the database is on the critical path", stack)
			assert.NotEqual(t, "aws:s3/bucketV2:BucketV2", s.Type, "%s: a bucket is on the critical path", stack)
		}
		assert.Contains(t, chain, "aws:eks/cluster:Cluster")
		assert.Contains(t, chain, "aws:eks/nodeGroup:NodeGroup")
		assert.Contains(t, chain, "kubernetes:helm.sh/v3:Release")
		assert.Less(t, cp.TotalSeconds, cp.SerialSeconds)
		assert.Less(t, cp.TotalSeconds, 45*60.0, "%s deploys in under 45 minutes", stack)
	}
}

func TestCriticalPathFollowsDependencies(t *testing.T) {
	// a -> b -> c, and d alone: the chain is a, b, c.
	p := &plan.Plan{Stack: "t", Resources: []plan.Resource{
		{URN: "a", Type: "aws:eks/cluster:Cluster"},
		{URN: "b", Type: "aws:eks/nodeGroup:NodeGroup", Dependencies: []string{"a"}},
		{URN: "c", Type: "kubernetes:helm.sh/v3:Release", Dependencies: []string{"b"}, Inputs: map[string]any{"chart": "airflow"}},
		{URN: "d", Type: "aws:rds/instance:Instance", Inputs: map[string]any{}},
	}}
	cp := insights.Critical(p)
	require.Len(t, cp.Chain, 3)
	assert.Equal(t, 660.0+210+300, cp.TotalSeconds)
	assert.Equal(t, 660.0+210+300+480, cp.SerialSeconds)
	assert.Equal(t, 870.0, cp.Chain[2].Start)
	assert.True(t, insights.DependsOn(p, "c", "a"))
	assert.False(t, insights.DependsOn(p, "d", "a"))
}

func TestInsightCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 0, cli.Main([]string{"-dir", projectDir, "-stack", "prod", "-estimate"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "total")
	assert.Contains(t, out.String(), insights.Prices().Date)
	out.Reset()
	require.Equal(t, 0, cli.Main([]string{"-dir", projectDir, "-stack", "prod", "-critical-path"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "Critical path of stack prod")
	assert.Contains(t, out.String(), "fully serial deploy")
}
