package plan

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Demand is what one long-running workload asks of the nodes: its pods'
// requests, how many pods, and the node sources they may run on.
type Demand struct {
	// Workload is "Kind namespace/name".
	Workload string `json:"workload"`
	// Replicas is how many pods run (DaemonSets: one per node, 0 here).
	Replicas int `json:"replicas"`
	// CPU (cores) and MemoryGiB one pod requests: its containers' sum, or
	// its largest init container if that is more.
	CPU       float64 `json:"cpu"`
	MemoryGiB float64 `json:"memoryGiB"`
	// Pool is the Karpenter NodePool its pods go to (the heaviest of those
	// they fit), or "" when they run on a managed node group.
	Pool string `json:"pool,omitempty"`
	// NodeGroup is the managed node group they run on, when Pool is "".
	NodeGroup string `json:"nodeGroup,omitempty"`
}

// Claim is a persistent volume a release or the program creates.
type Claim struct {
	// Key names it ("PersistentVolumeClaim ns/name", or a StatefulSet's
	// template with its replicas).
	Key string
	// GiB is its size, times the replicas of a StatefulSet.
	GiB float64
	// StorageClass is the class it asks for ("" for the default).
	StorageClass string
}

// AlwaysOn returns the demand of every workload that runs whether or not
// anyone uses the platform: the pods of Deployments and StatefulSets (not
// Jobs, hooks, nor the pods of syncs and tasks), with where they land.
func (p *Plan) AlwaysOn() []Demand {
	c := p.clusterView()
	sources := c.nodeSources()
	weights := map[string]float64{}
	for _, r := range p.Resources {
		if r.Type == "kubernetes:karpenter.sh/v1:NodePool" {
			w, _ := At(r.Inputs, "spec", "weight").(float64)
			weights["NodePool "+StringAt(r.Inputs, "metadata", "name")] = w
		}
	}
	workloads := map[string]ClusterObject{}
	for _, o := range c.objects {
		workloads[o.Key()] = o
	}
	var out []Demand
	for _, o := range c.objects {
		if o.Kind != "Pod" || !o.Derived || o.Hook != "" || RunsUserCode(o) ||
			!(strings.HasPrefix(o.From, "Deployment ") || strings.HasPrefix(o.From, "StatefulSet ")) {
			continue
		}
		spec, _ := o.Body["spec"].(map[string]any)
		d := Demand{Workload: o.From, Replicas: replicasOf(workloads[o.From].Body)}
		d.CPU, d.MemoryGiB = podRequests(spec)
		best := -1.0
		for _, s := range sources {
			if ok, _ := s.fits(spec); !ok {
				continue
			}
			if name, isPool := strings.CutPrefix(s.name, "NodePool "); isPool {
				if w := weights[s.name]; d.Pool == "" || w > best {
					d.Pool, best = name, w
				}
			} else if d.NodeGroup == "" {
				d.NodeGroup = strings.TrimPrefix(s.name, "node group ")
			}
		}
		if d.Pool != "" {
			d.NodeGroup = ""
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Workload < out[j].Workload })
	return out
}

// Claims returns every persistent volume claim the plan creates.
func (p *Plan) Claims() []Claim {
	var out []Claim
	for _, o := range p.ClusterObjects() {
		switch o.Kind {
		case "PersistentVolumeClaim":
			out = append(out, Claim{Key: o.Key(), GiB: quantity(StringAt(o.Body, "spec", "resources", "requests", "storage")) / gib,
				StorageClass: StringAt(o.Body, "spec", "storageClassName")})
		case "StatefulSet":
			n := replicasOf(o.Body)
			for _, t := range listOf(At(o.Body, "spec", "volumeClaimTemplates")) {
				out = append(out, Claim{Key: o.Key() + " " + StringAt(t, "metadata", "name"),
					GiB:          float64(n) * quantity(StringAt(t, "spec", "resources", "requests", "storage")) / gib,
					StorageClass: StringAt(t, "spec", "storageClassName")})
			}
		}
	}
	return out
}

const gib = 1 << 30

// replicasOf is a workload's replicas (1 when unset, as Kubernetes defaults).
func replicasOf(body map[string]any) int {
	switch n := At(body, "spec", "replicas").(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return 1
}

// podRequests is what a pod requests: its containers' sum, or its largest
// init container's if larger (Kubernetes' effective request).
func podRequests(spec map[string]any) (cpu, memGiB float64) {
	var initCPU, initMem float64
	for _, c := range listOf(spec["initContainers"]) {
		initCPU = math.Max(initCPU, quantity(StringAt(c, "resources", "requests", "cpu")))
		initMem = math.Max(initMem, quantity(StringAt(c, "resources", "requests", "memory")))
	}
	for _, c := range listOf(spec["containers"]) {
		cpu += quantity(StringAt(c, "resources", "requests", "cpu"))
		memGiB += quantity(StringAt(c, "resources", "requests", "memory"))
	}
	return math.Max(cpu, initCPU), math.Max(memGiB, initMem) / gib
}

// quantity parses a Kubernetes quantity ("250m", "1", "512Mi", "2Gi",
// "1G") into its value (cores, bytes); "" is 0.
func quantity(q string) float64 {
	for _, u := range []struct {
		suffix string
		factor float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if v, ok := strings.CutSuffix(q, u.suffix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f * u.factor
		}
	}
	f, _ := strconv.ParseFloat(q, 64)
	return f
}

// StringToGiB parses a size such as "50Gi" into GiB.
func StringToGiB(q string) float64 { return quantity(q) / gib }
