package stackconfig

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Karpenter is the plain configuration of Karpenter, the stack config section
// `dataplatform:karpenter`. Zero values mean "use the default".
type Karpenter struct {
	// ChartVersion pins the Karpenter chart (and the karpenter-crd chart that
	// keeps the CRDs upgraded with it), such as "1.14.1". Required.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Namespace is where the controller runs. Default "kube-system", whose
	// API priority and fairness settings Karpenter relies on.
	Namespace string `json:"namespace,omitempty"`
	// Replicas of the controller; each needs its own core node. Default 2.
	Replicas int `json:"replicas,omitempty"`
	// Resources of each controller replica. Defaults: 1 CPU, 1Gi (upstream's advice).
	Resources ControllerResources `json:"resources,omitempty"`
	// AMIAlias selects the node image, "al2023@latest" (default) or pinned,
	// such as "al2023@v20251108". Pin it in production: "latest" replaces
	// nodes whenever AWS publishes an AMI.
	AMIAlias string `json:"amiAlias,omitempty"`
	// NodeVolumeSizeGiB is the size of each node's encrypted gp3 root volume. Default 100.
	NodeVolumeSizeGiB int `json:"nodeVolumeSizeGiB,omitempty"`
	// NodePools are the pools of nodes Karpenter may launch. At least one.
	NodePools []NodePool `json:"nodePools,omitempty"`
}

// ControllerResources are a container's CPU and memory, requested and limited alike.
type ControllerResources struct {
	// CPU, such as "1" or "500m".
	CPU string `json:"cpu,omitempty"`
	// Memory, such as "1Gi" or "512Mi".
	Memory string `json:"memory,omitempty"`
}

// NodePool is one Karpenter NodePool.
type NodePool struct {
	// Name is the NodePool's name (a DNS label).
	Name string `json:"name"`
	// CapacityTypes are "spot", "on-demand" or both; with both, Karpenter
	// prefers spot. Default ["on-demand"].
	CapacityTypes []string `json:"capacityTypes,omitempty"`
	// Architectures are "amd64", "arm64" or both. Default both.
	Architectures []string `json:"architectures,omitempty"`
	// InstanceCategories are EC2 instance categories such as "c", "m", "r".
	// Default ["c", "m", "r"].
	InstanceCategories []string `json:"instanceCategories,omitempty"`
	// MinInstanceGeneration excludes older generations: 5 allows m5 and newer. Default 5.
	MinInstanceGeneration int `json:"minInstanceGeneration,omitempty"`
	// CPULimit caps the pool's total vCPUs. Required: it bounds the bill.
	CPULimit int `json:"cpuLimit,omitempty"`
	// MemoryLimitGiB caps the pool's total memory. Default 8 GiB per vCPU of CPULimit.
	MemoryLimitGiB int `json:"memoryLimitGiB,omitempty"`
	// ConsolidationPolicy is "WhenEmptyOrUnderutilized" (default) or "WhenEmpty".
	ConsolidationPolicy string `json:"consolidationPolicy,omitempty"`
	// ConsolidateAfter is how long a node must be consolidatable before
	// Karpenter acts, such as "1m" (default) or "Never".
	ConsolidateAfter string `json:"consolidateAfter,omitempty"`
	// ExpireAfter replaces nodes older than this, such as "720h" (default) or "Never".
	ExpireAfter string `json:"expireAfter,omitempty"`
	// TerminationGracePeriod bounds how long a node that Karpenter is
	// replacing (expired or drifted) waits for pods that block their
	// eviction (karpenter.sh/do-not-disrupt, a PodDisruptionBudget allowing
	// none) before they are evicted anyway, such as "48h" (default).
	TerminationGracePeriod string `json:"terminationGracePeriod,omitempty"`
	// Budgets limit how many of the pool's nodes Karpenter may disrupt at
	// once, each over a window or always. Default: 10% at any time
	// (Karpenter's own default).
	Budgets []DisruptionBudget `json:"budgets,omitempty"`
	// Weight orders pools: Karpenter tries higher weights first. 0 to 100, default 0.
	Weight int `json:"weight,omitempty"`
	// Labels are put on the pool's nodes.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints keep pods that do not tolerate them off the pool's nodes.
	Taints []Taint `json:"taints,omitempty"`
}

// DisruptionBudget is one of a NodePool's disruption budgets.
type DisruptionBudget struct {
	// Nodes is how many nodes may be disrupted at once: a number or a
	// percentage of the pool's nodes, such as "1" or "10%"; "0" stops
	// disruption (for the reasons listed) while the budget applies.
	Nodes string `json:"nodes"`
	// Schedule (cron, UTC, such as "0 8 * * mon-fri") and Duration (such as
	// "10h") make the budget apply only in that window; both or neither.
	Schedule string `json:"schedule,omitempty"`
	Duration string `json:"duration,omitempty"`
	// Reasons limit the budget to some disruptions: "Underutilized",
	// "Empty", "Drifted". Empty: all of them.
	Reasons []string `json:"reasons,omitempty"`
}

// Taint is a Kubernetes node taint.
type Taint struct {
	// Key of the taint, such as "dataplatform.io/spot".
	Key string `json:"key"`
	// Value of the taint; optional.
	Value string `json:"value,omitempty"`
	// Effect is "NoSchedule", "PreferNoSchedule" or "NoExecute".
	Effect string `json:"effect"`
}

var (
	karpenterDuration = regexp.MustCompile(`^(([0-9]+(s|m|h))+|Never)$`)
	amiAlias          = regexp.MustCompile(`^al2023@(latest|v\d{8})$`)
	instanceCategory  = regexp.MustCompile(`^[a-z]$`)
	labelKey          = regexp.MustCompile(`^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	effects           = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	capacities        = []string{"spot", "on-demand"}
	arches            = []string{"amd64", "arm64"}
)

// WithDefaults returns c with every unset field given its default.
func (c Karpenter) WithDefaults() Karpenter {
	if c.Namespace == "" {
		c.Namespace = "kube-system"
	}
	if c.Replicas == 0 {
		c.Replicas = 2
	}
	if c.Resources.CPU == "" {
		c.Resources.CPU = "1"
	}
	if c.Resources.Memory == "" {
		c.Resources.Memory = "1Gi"
	}
	if c.AMIAlias == "" {
		c.AMIAlias = "al2023@latest"
	}
	if c.NodeVolumeSizeGiB == 0 {
		c.NodeVolumeSizeGiB = 100
	}
	pools := make([]NodePool, len(c.NodePools))
	for i, p := range c.NodePools {
		if len(p.CapacityTypes) == 0 {
			p.CapacityTypes = []string{"on-demand"}
		}
		if len(p.Architectures) == 0 {
			p.Architectures = []string{"amd64", "arm64"}
		}
		if len(p.InstanceCategories) == 0 {
			p.InstanceCategories = []string{"c", "m", "r"}
		}
		if p.MinInstanceGeneration == 0 {
			p.MinInstanceGeneration = 5
		}
		if p.MemoryLimitGiB == 0 {
			p.MemoryLimitGiB = 8 * p.CPULimit
		}
		if p.ConsolidationPolicy == "" {
			p.ConsolidationPolicy = "WhenEmptyOrUnderutilized"
		}
		if p.ConsolidateAfter == "" {
			p.ConsolidateAfter = "1m"
		}
		if p.ExpireAfter == "" {
			p.ExpireAfter = "720h"
		}
		if p.TerminationGracePeriod == "" {
			p.TerminationGracePeriod = "48h"
		}
		if len(p.Budgets) == 0 {
			p.Budgets = []DisruptionBudget{{Nodes: "10%"}}
		}
		pools[i] = p
	}
	c.NodePools = pools
	return c
}

// Validate reports every problem of a defaulted Karpenter, with field paths
// relative to the config section.
func (c Karpenter) Validate() *validate.Problems {
	var p validate.Problems
	switch {
	case c.ChartVersion == "":
		p.Addf("chartVersion", "required: the Karpenter chart version, such as \"1.14.1\"")
	case !semver.MatchString(c.ChartVersion):
		p.Addf("chartVersion", "want a chart version such as \"1.14.1\", got %q", c.ChartVersion)
	}
	if !dnsLabel.MatchString(c.Namespace) {
		p.Addf("namespace", "want a Kubernetes namespace name, got %q", c.Namespace)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		p.Addf("replicas", "want 1 to 5 controller replicas, got %d", c.Replicas)
	}
	if !quantity.MatchString(c.Resources.CPU) {
		p.Addf("resources.cpu", "want a CPU quantity such as \"1\" or \"500m\", got %q", c.Resources.CPU)
	}
	if !quantity.MatchString(c.Resources.Memory) {
		p.Addf("resources.memory", "want a memory quantity such as \"1Gi\" or \"512Mi\", got %q", c.Resources.Memory)
	}
	if !amiAlias.MatchString(c.AMIAlias) {
		p.Addf("amiAlias", "want \"al2023@latest\" or a pinned \"al2023@vYYYYMMDD\", got %q", c.AMIAlias)
	}
	if c.NodeVolumeSizeGiB < 20 || c.NodeVolumeSizeGiB > 2000 {
		p.Addf("nodeVolumeSizeGiB", "want 20 to 2000 GiB, got %d", c.NodeVolumeSizeGiB)
	}
	if len(c.NodePools) == 0 {
		p.Addf("nodePools", "want at least one node pool, or Karpenter launches nothing and workloads stay pending")
	}
	names := map[string]bool{}
	for i, np := range c.NodePools {
		f := func(field string) string { return validate.Index("nodePools", i) + "." + field }
		if !dnsLabel.MatchString(np.Name) {
			p.Addf(f("name"), "want a DNS label (lowercase letters, digits, hyphens), got %q", np.Name)
		}
		if names[np.Name] {
			p.Addf(f("name"), "node pool %q is declared twice", np.Name)
		}
		names[np.Name] = true
		checkSet(&p, f("capacityTypes"), np.CapacityTypes, capacities)
		checkSet(&p, f("architectures"), np.Architectures, arches)
		for j, cat := range np.InstanceCategories {
			if !instanceCategory.MatchString(cat) {
				p.Addf(fmt.Sprintf("%s[%d]", f("instanceCategories"), j), "want one lowercase letter such as \"m\", got %q", cat)
			}
		}
		if np.MinInstanceGeneration < 1 || np.MinInstanceGeneration > 9 {
			p.Addf(f("minInstanceGeneration"), "want 1 to 9, got %d", np.MinInstanceGeneration)
		}
		if np.CPULimit < 1 {
			p.Addf(f("cpuLimit"), "required: a positive cap on the pool's vCPUs (it bounds the bill), got %d", np.CPULimit)
		}
		if np.MemoryLimitGiB < 0 {
			p.Addf(f("memoryLimitGiB"), "want a positive number of GiB, got %d", np.MemoryLimitGiB)
		}
		if np.ConsolidationPolicy != "WhenEmptyOrUnderutilized" && np.ConsolidationPolicy != "WhenEmpty" {
			p.Addf(f("consolidationPolicy"), "want %s, got %q", validate.OneOf("WhenEmptyOrUnderutilized", "WhenEmpty"), np.ConsolidationPolicy)
		}
		if !karpenterDuration.MatchString(np.ConsolidateAfter) {
			p.Addf(f("consolidateAfter"), "want a karpenterDuration such as \"30s\", \"1m\" or \"Never\", got %q", np.ConsolidateAfter)
		}
		if !karpenterDuration.MatchString(np.ExpireAfter) {
			p.Addf(f("expireAfter"), "want a karpenterDuration such as \"720h\" or \"Never\", got %q", np.ExpireAfter)
		}
		if !goDuration.MatchString(np.TerminationGracePeriod) {
			p.Addf(f("terminationGracePeriod"), "want a duration in hours, minutes or seconds such as \"48h\", got %q", np.TerminationGracePeriod)
		}
		for j, b := range np.Budgets {
			checkBudget(&p, fmt.Sprintf("%s[%d]", f("budgets"), j), b)
		}
		if np.Weight < 0 || np.Weight > 100 {
			p.Addf(f("weight"), "want 0 to 100, got %d", np.Weight)
		}
		for k := range np.Labels {
			if !labelKey.MatchString(k) {
				p.Addf(f("labels."+k), "not a valid Kubernetes label key")
			}
		}
		for j, t := range np.Taints {
			tf := fmt.Sprintf("%s[%d]", f("taints"), j)
			if !labelKey.MatchString(t.Key) {
				p.Addf(tf+".key", "want a Kubernetes taint key, got %q", t.Key)
			}
			if !slices.Contains(effects, t.Effect) {
				p.Addf(tf+".effect", "want %s, got %q", validate.OneOf(effects...), t.Effect)
			}
		}
	}
	return &p
}

func checkSet(p *validate.Problems, field string, got, allowed []string) {
	if len(got) == 0 {
		p.Addf(field, "want at least one of %v", allowed)
	}
	seen := map[string]bool{}
	for i, v := range got {
		if !slices.Contains(allowed, v) {
			p.Addf(validate.Index(field, i), "want %s, got %q", validate.OneOf(allowed...), v)
		}
		if seen[v] {
			p.Addf(validate.Index(field, i), "%q is listed twice", v)
		}
		seen[v] = true
	}
}

var (
	budgetNodes    = regexp.MustCompile(`^((100|[0-9]{1,2})%|[0-9]+)$`)
	budgetSchedule = regexp.MustCompile(`^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))$|^(\S+\s\S+\s\S+\s\S+\s\S+)$`)
	budgetDuration = regexp.MustCompile(`^(([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?$`)
	goDuration     = regexp.MustCompile(`^([0-9]+(h|m|s))+$`)
	budgetReasons  = []string{"Underutilized", "Empty", "Drifted"}
)

// checkBudget records every problem of a disruption budget, with the
// patterns of Karpenter's NodePool CRD (karpenter.sh_nodepools.yaml).
func checkBudget(p *validate.Problems, field string, b DisruptionBudget) {
	if !budgetNodes.MatchString(b.Nodes) {
		p.Addf(field+".nodes", "want a number of nodes or a percentage such as \"1\" or \"10%%\", got %q", b.Nodes)
	}
	if (b.Schedule == "") != (b.Duration == "") {
		p.Addf(field, "schedule and duration go together: a window starts at schedule and lasts duration")
	}
	if b.Schedule != "" && !budgetSchedule.MatchString(b.Schedule) {
		p.Addf(field+".schedule", "want a cron schedule of 5 fields (UTC) such as \"0 8 * * mon-fri\", or @daily, got %q", b.Schedule)
	}
	if b.Duration != "" && !budgetDuration.MatchString(b.Duration) {
		p.Addf(field+".duration", "want hours and minutes such as \"10h\" or \"1h30m\", got %q", b.Duration)
	}
	for k, r := range b.Reasons {
		if !slices.Contains(budgetReasons, r) {
			p.Addf(fmt.Sprintf("%s.reasons[%d]", field, k), "want %s, got %q", validate.OneOf(budgetReasons...), r)
		}
	}
}
