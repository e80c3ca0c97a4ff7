package tests

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/insights"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/plan/cli"
)

// The idle estimate counts what really runs: the nodes the apps'
// always-on pods need, from their rendered requests, and dev stays within
// its $200 a month by its design (a NAT instance, one shared RDS instance),
// not by leaving anything out of the count.
func TestTheIdleEstimateCountsTheNodesTheAlwaysOnPodsNeed(t *testing.T) {
	prices := insights.Prices()
	require.NotEmpty(t, prices.Date)
	for key, p := range prices.Prices {
		assert.NotEmpty(t, p.Source, "price %s has no source", key)
		assert.Positive(t, p.USD, key)
	}
	dev := insights.EstimateCost(stackPlan(t, "dev"), prices)
	assert.Empty(t, dev.Missing, "every dev resource that costs money has a price")
	var capacity *insights.Line
	for i, l := range dev.Lines {
		if l.Type == "kubernetes:karpenter.sh/v1:NodePool" {
			capacity = &dev.Lines[i]
		}
	}
	require.NotNil(t, capacity, "dev's always-on pods need Karpenter nodes, and the estimate prices them")
	var cpu, mem float64
	pods := 0
	for _, d := range stackPlan(t, "dev").AlwaysOn() {
		if d.Pool == "default" {
			cpu += float64(d.Replicas) * d.CPU
			mem += float64(d.Replicas) * d.MemoryGiB
			pods += d.Replicas
		}
	}
	assert.Equal(t, 12, pods, "Airbyte's seven components and Airflow's five")
	assert.Contains(t, capacity.What, fmt.Sprintf("%d pods requesting %.2f vCPU and %.1f GiB", pods, cpu, mem))
	// The node type holds the pods with its reservations: more than the
	// requests, and the cheapest type dev's pool allows that does
	// (t4g.large: 2 vCPU, 8 GiB; dev lets in generation 4).
	assert.Greater(t, 2-insights.NodeOverhead.CPU, cpu)
	assert.Greater(t, 8-insights.NodeOverhead.GiB, mem)
	assert.Contains(t, capacity.What, "1 × t4g.large")
	assert.Empty(t, stackPlan(t, "dev").Claims(), "the charts create no persistent volume")
	// Negative control: a pod that asks for 20 GiB needs a bigger node.
	big := clone(t, stackPlan(t, "dev"))
	container(t, big, "airbyte", "Deployment", "airbyte-server")["resources"] = map[string]any{"requests": map[string]any{"cpu": "200m", "memory": "20Gi"}}
	for _, l := range insights.EstimateCost(big, prices).Lines {
		if l.Type == "kubernetes:karpenter.sh/v1:NodePool" {
			assert.NotContains(t, l.What, "t4g.large", "20 GiB does not fit an 8 GiB node")
			assert.Greater(t, l.USD, capacity.USD)
		}
	}
	assert.LessOrEqual(t, dev.TotalUSD, 200.0, "dev's idle goal")
	// Negative control: with a NAT gateway and an instance per app, dev
	// misses it, so the goal is met by those choices.
	opts := stackOptions(t, "dev")
	setNetwork("natStrategy", "Single")(t, opts)
	setNetwork("natInstanceType", nil)(t, opts)
	setIn("dataplatform:database", "sharedInstance", false)(t, opts)
	gateway, err := plan.Run(opts)
	require.NoError(t, err)
	assert.Greater(t, insights.EstimateCost(gateway, prices).TotalUSD, 200.0)

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

func TestComponentSizesAreOverriddenPerStackAndChecked(t *testing.T) {
	dev := values(t, stackPlan(t, "dev"), "airflow")
	assert.Equal(t, map[string]any{"cpu": "150m", "memory": "768Mi"}, plan.At(dev, "scheduler", "resources", "requests"), "dev's override")
	assert.Equal(t, map[string]any{"memory": "2Gi"}, plan.At(dev, "scheduler", "resources", "limits"), "an unset field keeps its default")
	prod := values(t, stackPlan(t, "prod"), "airflow")
	assert.Equal(t, map[string]any{"cpu": "250m", "memory": "1Gi"}, plan.At(prod, "scheduler", "resources", "requests"), "prod keeps the defaults")
	opts := stackOptions(t, "dev")
	apps := section(t, opts, "dataplatform:apps")
	apps["airflow"].(map[string]any)["resources"] = map[string]any{"schedulr": map[string]any{"cpu": "1"}, "apiServer": map[string]any{"memory": "lots"}}
	setSection(t, opts, "dataplatform:apps", apps)
	_, err := plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apps.airflow.resources.schedulr: no such component")
	assert.Contains(t, err.Error(), `apps.airflow.resources.apiServer.memory: want a Kubernetes quantity`)
}
