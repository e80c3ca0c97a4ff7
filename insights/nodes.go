package insights

import (
	"math"
	"strconv"

	"github.com/dataplatform/dataplatform/plan"
)

// Node is a kind of node the platform runs on when idle: the managed node
// group's, or those Karpenter brings a NodePool for its always-on pods.
type Node struct {
	// Source is "node group <name>" or "NodePool <name>".
	Source string `json:"source"`
	// InstanceType is the EC2 type, Count how many of it.
	InstanceType string `json:"instanceType"`
	Count        int    `json:"count"`
	// CPU and MemoryGiB are the type's; Allocatable* what pods may request
	// of each node once the kubelet's and the system's reservations
	// (NodeOverhead) are taken.
	CPU            float64 `json:"cpu"`
	MemoryGiB      float64 `json:"memoryGiB"`
	AllocatableCPU float64 `json:"allocatableCpu"`
	AllocatableGiB float64 `json:"allocatableGiB"`
	// Labels and Taints are what the nodes carry (Karpenter's well-known
	// labels: the pool, architecture, capacity type, instance type).
	Labels map[string]string `json:"labels"`
	Taints []map[string]any  `json:"taints"`
}

// Nodes lists the nodes the plan's idle platform runs on: the core node
// group at its desired size, and for each NodePool the cheapest type it
// allows that holds its always-on pods, as many as the estimate counts
// (none for a pool whose pods only come and go, such as task or job pods:
// Karpenter brings those nodes when they are pending).
func Nodes(p *plan.Plan, prices PriceTable) []Node {
	var out []Node
	for _, r := range p.Find("aws:eks/nodeGroup:NodeGroup") {
		types := plan.Strings(r.Inputs["instanceTypes"])
		if len(types) == 0 {
			continue
		}
		s, ok := shapeNamed(types[0])
		if !ok {
			continue
		}
		n := Node{Source: "node group " + r.Name, InstanceType: s.name, Count: int(num(plan.At(r.Inputs, "scalingConfig", "desiredSize"))),
			Labels: map[string]string{"kubernetes.io/arch": s.arch, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": s.name,
				"eks.amazonaws.com/capacityType": plan.StringAt(r.Inputs, "capacityType"), "eks.amazonaws.com/nodegroup": r.Name}}
		labels, _ := r.Inputs["labels"].(map[string]any)
		for k, v := range labels {
			if s, ok := v.(string); ok {
				n.Labels[k] = s
			}
		}
		for _, t := range plan.Maps(r.Inputs["taints"]) {
			effect := map[string]string{"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[plan.StringAt(t, "effect")]
			n.Taints = append(n.Taints, map[string]any{"key": t["key"], "value": t["value"], "effect": effect})
		}
		out = append(out, n.sized(s))
	}
	for _, pool := range p.Find("kubernetes:karpenter.sh/v1:NodePool") {
		name := plan.StringAt(pool.Inputs, "metadata", "name")
		s, count, ok := poolNodes(p, prices, pool)
		if !ok {
			continue
		}
		// Karpenter launches the cheapest capacity the pool allows: spot
		// when it may.
		capacity := "on-demand"
		for _, req := range plan.Maps(plan.At(pool.Inputs, "spec", "template", "spec", "requirements")) {
			if plan.StringAt(req, "key") == "karpenter.sh/capacity-type" && contains(plan.Strings(req["values"]), "spot") {
				capacity = "spot"
			}
		}
		n := Node{Source: "NodePool " + name, InstanceType: s.name, Count: count,
			Labels: map[string]string{"kubernetes.io/arch": s.arch, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": s.name,
				"karpenter.sh/nodepool": name, "karpenter.sh/capacity-type": capacity,
				"karpenter.k8s.aws/instance-category": s.category, "karpenter.k8s.aws/instance-generation": strconv.Itoa(s.generation)},
			Taints: plan.Maps(plan.At(pool.Inputs, "spec", "template", "spec", "taints"))}
		labels, _ := plan.At(pool.Inputs, "spec", "template", "metadata", "labels").(map[string]any)
		for k, v := range labels {
			if s, ok := v.(string); ok {
				n.Labels[k] = s
			}
		}
		out = append(out, n.sized(s))
	}
	return out
}

func (n Node) sized(s shape) Node {
	n.CPU, n.MemoryGiB = s.vcpu, s.gib
	n.AllocatableCPU, n.AllocatableGiB = s.vcpu-NodeOverhead.CPU, s.gib-NodeOverhead.GiB
	return n
}

func shapeNamed(name string) (shape, bool) {
	for _, s := range shapes {
		if s.name == name {
			return s, true
		}
	}
	return shape{}, false
}

// poolNodes is the estimate's choice for a NodePool: the cheapest type it
// allows (on-demand prices) that holds each of its always-on pods, and how
// many of it hold them all; for a pool without always-on pods, the
// cheapest type it allows and none of it.
func poolNodes(p *plan.Plan, prices PriceTable, pool plan.Resource) (shape, int, bool) {
	name := plan.StringAt(pool.Inputs, "metadata", "name")
	var cpu, gib, maxCPU, maxGiB float64
	for _, d := range p.AlwaysOn() {
		if d.Pool == name {
			cpu += float64(d.Replicas) * d.CPU
			gib += float64(d.Replicas) * d.MemoryGiB
			maxCPU, maxGiB = math.Max(maxCPU, d.CPU), math.Max(maxGiB, d.MemoryGiB)
		}
	}
	disk := nodeDisk(p)
	var best shape
	bestN, bestUSD := 0, math.Inf(1)
	for _, s := range poolShapes(pool) {
		pr, ok := prices.Prices["ec2.instance."+s.name+".hour"]
		ac, am := s.vcpu-NodeOverhead.CPU, s.gib-NodeOverhead.GiB
		if !ok || ac < maxCPU || am < maxGiB {
			continue
		}
		n := int(math.Max(math.Ceil(cpu/ac), math.Ceil(gib/am)))
		usd := float64(max(n, 1)) * (prices.HoursPerMonth*pr.USD + disk*prices.Prices["ec2.ebs.gp3.gbmonth"].USD)
		if usd < bestUSD {
			best, bestN, bestUSD = s, n, usd
		}
	}
	return best, bestN, best.name != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodeDisk is the size in GiB of a Karpenter node's volume (the
// EC2NodeClass's), 0 without one.
func nodeDisk(p *plan.Plan) float64 {
	disk := 0.0
	for _, r := range p.Find("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") {
		for _, m := range plan.Maps(plan.At(r.Inputs, "spec", "blockDeviceMappings")) {
			disk = plan.StringToGiB(plan.StringAt(m, "ebs", "volumeSize"))
		}
	}
	return disk
}
