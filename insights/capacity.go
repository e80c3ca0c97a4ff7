package insights

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

// shape is an EC2 instance type the estimate may pick for Karpenter's
// always-on capacity (the EC2 instance types pages: vCPUs, memory).
type shape struct {
	name       string
	vcpu, gib  float64
	arch       string
	category   string
	generation int
}

var shapes = []shape{
	{"t4g.medium", 2, 4, "arm64", "t", 4}, {"t4g.large", 2, 8, "arm64", "t", 4}, {"t4g.xlarge", 4, 16, "arm64", "t", 4},
	{"c6g.large", 2, 4, "arm64", "c", 6}, {"c6g.xlarge", 4, 8, "arm64", "c", 6}, {"c6g.2xlarge", 8, 16, "arm64", "c", 6},
	{"m6g.large", 2, 8, "arm64", "m", 6}, {"m6g.xlarge", 4, 16, "arm64", "m", 6}, {"m6g.2xlarge", 8, 32, "arm64", "m", 6},
	{"r6g.large", 2, 16, "arm64", "r", 6}, {"r6g.xlarge", 4, 32, "arm64", "r", 6},
	{"c7g.large", 2, 4, "arm64", "c", 7}, {"c7g.xlarge", 4, 8, "arm64", "c", 7}, {"c7g.2xlarge", 8, 16, "arm64", "c", 7},
	{"m7g.large", 2, 8, "arm64", "m", 7}, {"m7g.xlarge", 4, 16, "arm64", "m", 7}, {"m7g.2xlarge", 8, 32, "arm64", "m", 7},
	{"r7g.large", 2, 16, "arm64", "r", 7}, {"r7g.xlarge", 4, 32, "arm64", "r", 7},
	{"c5.large", 2, 4, "amd64", "c", 5}, {"m5.large", 2, 8, "amd64", "m", 5}, {"r5.large", 2, 16, "amd64", "r", 5},
	{"c6i.large", 2, 4, "amd64", "c", 6}, {"m6i.large", 2, 8, "amd64", "m", 6}, {"r6i.large", 2, 16, "amd64", "r", 6},
	{"c7i.large", 2, 4, "amd64", "c", 7}, {"m7i.large", 2, 8, "amd64", "m", 7}, {"m7i.xlarge", 4, 16, "amd64", "m", 7},
	{"r7i.large", 2, 16, "amd64", "r", 7},
}

// NodeOverhead is what each Karpenter node keeps from the pods: the
// kubelet's and the system's reservations (EKS AL2023's bootstrap reserves
// about 80m CPU and 600 MiB on 2 to 4 vCPUs with ~30 pods, plus a 100 MiB
// eviction threshold) and the DaemonSets every node runs (VPC CNI,
// kube-proxy, EBS CSI node, CloudWatch agent and Fluent Bit).
var NodeOverhead = struct{ CPU, GiB float64 }{0.4, 0.9}

// poolCapacity prices the always-on pods of each NodePool: the cheapest
// instance type the pool allows (on-demand) whose allocatable capacity
// holds the largest pod, times the nodes the pool's total needs, plus each
// node's root volume.
func poolCapacity(p *plan.Plan, prices PriceTable, add func(r plan.Resource, what string, keys []string, usd func(map[string]float64) float64)) {
	type total struct {
		cpu, gib, maxCPU, maxGiB float64
		pods                     int
	}
	totals := map[string]*total{}
	for _, d := range p.AlwaysOn() {
		if d.Pool == "" {
			continue
		}
		t := totals[d.Pool]
		if t == nil {
			t = &total{}
			totals[d.Pool] = t
		}
		t.cpu += float64(d.Replicas) * d.CPU
		t.gib += float64(d.Replicas) * d.MemoryGiB
		t.maxCPU, t.maxGiB = math.Max(t.maxCPU, d.CPU), math.Max(t.maxGiB, d.MemoryGiB)
		t.pods += d.Replicas
	}
	disk := nodeDisk(p)
	for _, pool := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
		name := plan.StringAt(pool.Inputs, "metadata", "name")
		t := totals[name]
		if t == nil {
			continue
		}
		chosen, bestN, ok := poolNodes(p, prices, pool)
		if !ok {
			continue
		}
		best := chosen.name
		key := "ec2.instance." + best + ".hour"
		n := float64(bestN)
		add(pool, fmt.Sprintf("always-on capacity: %d pods requesting %.2f vCPU and %.1f GiB, on %d × %s on-demand (the cheapest the pool allows), %.0f GiB gp3 each",
			t.pods, t.cpu, t.gib, bestN, best, disk), []string{key, "ec2.ebs.gp3.gbmonth"},
			func(v map[string]float64) float64 {
				return n * (prices.HoursPerMonth*v[key] + disk*v["ec2.ebs.gp3.gbmonth"])
			})
	}
}

// poolShapes are the instance types a NodePool's requirements allow.
func poolShapes(pool plan.Resource) []shape {
	var out []shape
	reqs := plan.Maps(plan.At(pool.Inputs, "spec", "template", "spec", "requirements"))
	for _, s := range shapes {
		ok := true
		for _, r := range reqs {
			key, op, values := plan.StringAt(r, "key"), plan.StringAt(r, "operator"), plan.Strings(r["values"])
			var have string
			switch key {
			case "kubernetes.io/arch":
				have = s.arch
			case "karpenter.k8s.aws/instance-category":
				have = s.category
			case "karpenter.k8s.aws/instance-generation":
				have = strconv.Itoa(s.generation)
			default:
				continue
			}
			switch op {
			case "In":
				ok = ok && slices.Contains(values, have)
			case "Gt":
				min, _ := strconv.Atoi(strings.Join(values, ""))
				ok = ok && s.generation > min
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// claimsCost prices every persistent volume claim (gp3).
func claimsCost(p *plan.Plan, add func(r plan.Resource, what string, keys []string, usd func(map[string]float64) float64)) {
	for _, c := range p.Claims() {
		gib := c.GiB
		add(plan.Resource{Type: "kubernetes:core/v1:PersistentVolumeClaim", Name: c.Key}, fmt.Sprintf("%.0f GiB gp3 volume", gib), []string{"ec2.ebs.gp3.gbmonth"},
			func(v map[string]float64) float64 { return gib * v["ec2.ebs.gp3.gbmonth"] })
	}
}
