package stackconfig

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Architecture is a CPU architecture of nodes.
type Architecture string

// The architectures EKS-optimized AL2023 AMIs exist for.
const (
	ArchAMD64 Architecture = "amd64"
	ArchARM64 Architecture = "arm64"
)

// Cluster is the plain configuration of a Cluster, the stack config section
// `dataplatform:cluster`. Zero values mean "use the default".
type Cluster struct {
	// KubernetesVersion is the EKS version, such as "1.35". Required: an
	// upgrade is a one-line change that `pulumi preview` shows.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Endpoint controls who reaches the API server.
	Endpoint APIEndpoint `json:"endpoint,omitempty"`
	// AdminRoleARNs are IAM roles given cluster-admin through EKS access
	// entries. Include the role that runs `pulumi up`: the program manages
	// Kubernetes resources through it.
	AdminRoleARNs []string `json:"adminRoleArns,omitempty"`
	// BootstrapCreatorAdmin makes the identity that creates the cluster its
	// admin. Default false: access comes from AdminRoleARNs only. It can only
	// be chosen when the cluster is created.
	BootstrapCreatorAdmin bool `json:"bootstrapCreatorAdmin,omitempty"`
	// LogRetentionDays is how long control-plane logs are kept. Default 90.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// CoreNodeGroup is the small managed node group that runs the platform's
	// own controllers (Karpenter, CoreDNS, ...); everything else runs on
	// nodes Karpenter launches.
	CoreNodeGroup NodeGroup `json:"coreNodeGroup,omitempty"`
	// Protect guards the secrets-encryption KMS key against `pulumi destroy`
	// (without it, the cluster's secrets are unreadable). Set it in production.
	Protect bool `json:"protect,omitempty"`
	// Addons pins the EKS managed add-on versions. Each is required.
	Addons Addons `json:"addons,omitempty"`
}

// APIEndpoint is the API server endpoint's access. `pulumi up` creates the
// cluster's Kubernetes objects in the same run, so the machine that runs it
// must reach the endpoint: either list its egress blocks (a CI runner's NAT,
// a VPN) in PublicAccessCIDRs, or run the deploy inside the VPC
// (DeployerInVpc). Everyone else stays out.
type APIEndpoint struct {
	// PublicAccess opens the endpoint outside the VPC, only to
	// PublicAccessCIDRs. Default false: the API server is reachable only from
	// inside the VPC (and what is peered or connected to it).
	PublicAccess bool `json:"publicAccess,omitempty"`
	// PublicAccessCIDRs are the IPv4 blocks allowed to reach a public
	// endpoint, /16 or narrower: the deployer's egress and the operators'
	// VPN. Required when PublicAccess is on. 0.0.0.0/0 is refused.
	PublicAccessCIDRs []string `json:"publicAccessCidrs,omitempty"`
	// DeployerInVpc says `pulumi up` runs inside the VPC (or a network routed
	// to it), so a private endpoint is enough. Only with network.existing: a
	// VPC the stack creates does not exist when its first deploy starts.
	DeployerInVpc bool `json:"deployerInVpc,omitempty"`
}

// NodeGroup configures the core managed node group.
type NodeGroup struct {
	// Architecture is "arm64" (Graviton, cheaper) or "amd64". Default "arm64".
	Architecture Architecture `json:"architecture,omitempty"`
	// InstanceTypes are tried in order; they must match Architecture.
	// Default ["t4g.medium"] for arm64, ["t3.medium"] for amd64.
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// MinSize, DesiredSize and MaxSize bound the group. Defaults 2, 2, 3.
	MinSize     int `json:"minSize,omitempty"`
	DesiredSize int `json:"desiredSize,omitempty"`
	MaxSize     int `json:"maxSize,omitempty"`
	// DiskSizeGiB is the encrypted gp3 root volume's size. Default 50.
	DiskSizeGiB int `json:"diskSizeGiB,omitempty"`
	// Dedicated taints the core nodes CriticalAddonsOnly=true:NoSchedule, so
	// only platform controllers (which tolerate it) run there and Airbyte
	// and Airflow run on Karpenter's nodes. Default true.
	Dedicated *bool `json:"dedicated,omitempty"`
}

// Addons pins the version of each EKS managed add-on, such as
// "v1.19.5-eksbuild.1". `aws eks describe-addon-versions --kubernetes-version
// 1.33 --addon-name coredns` lists the versions available.
type Addons struct {
	// VpcCni is the Amazon VPC CNI (pod networking). Required.
	VpcCni string `json:"vpcCni,omitempty"`
	// CoreDNS is the cluster DNS. Required.
	CoreDNS string `json:"coreDns,omitempty"`
	// KubeProxy must match kubernetesVersion's minor version. Required.
	KubeProxy string `json:"kubeProxy,omitempty"`
	// EbsCsiDriver provisions the gp3 volumes of the default StorageClass. Required.
	EbsCsiDriver string `json:"ebsCsiDriver,omitempty"`
	// EfsCsiDriver is required when Airflow keeps its DAGs on EFS.
	EfsCsiDriver string `json:"efsCsiDriver,omitempty"`
	// MetricsServer serves resource metrics (kubectl top, autoscalers). Required.
	MetricsServer string `json:"metricsServer,omitempty"`
	// CloudWatchObservability is the Container Insights add-on (CloudWatch
	// agent and Fluent Bit): the platform's metrics and logs path. Required.
	CloudWatchObservability string `json:"cloudWatchObservability,omitempty"`
}

// ClusterLogTypes are the control-plane log types; all of them are always enabled.
var ClusterLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// KubernetesVersions are the Kubernetes versions this library is tested with.
var KubernetesVersions = []string{"1.33", "1.34", "1.35", "1.36"}

var (
	addonVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+-eksbuild\.\d+$`)
	roleARN      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	// instanceType is "family.size"; Graviton families carry a "g" after the
	// generation digit (t4g, m7g, c8gd, r7gn).
	instanceType = regexp.MustCompile(`^([a-z]+)(\d+)([a-z-]*)\.([a-z0-9-]+)$`)
)

// WithDefaults returns c with every unset field given its default.
func (c Cluster) WithDefaults() Cluster {
	if c.LogRetentionDays == 0 {
		c.LogRetentionDays = 90
	}
	n := &c.CoreNodeGroup
	if n.Architecture == "" {
		n.Architecture = ArchARM64
	}
	if len(n.InstanceTypes) == 0 {
		if n.Architecture == ArchAMD64 {
			n.InstanceTypes = []string{"t3.medium"}
		} else {
			n.InstanceTypes = []string{"t4g.medium"}
		}
	}
	if n.MinSize == 0 {
		n.MinSize = 2
	}
	if n.DesiredSize == 0 {
		n.DesiredSize = n.MinSize
	}
	if n.MaxSize == 0 {
		n.MaxSize = max(3, n.DesiredSize)
	}
	if n.DiskSizeGiB == 0 {
		n.DiskSizeGiB = 50
	}
	if n.Dedicated == nil {
		on := true
		n.Dedicated = &on
	}
	return c
}

// Validate reports every problem of a defaulted Cluster, with field paths
// relative to the config section.
func (c Cluster) Validate() *validate.Problems {
	var p validate.Problems
	switch {
	case c.KubernetesVersion == "":
		p.Addf("kubernetesVersion", "required: the EKS Kubernetes version, %s", validate.OneOf(KubernetesVersions...))
	case !slices.Contains(KubernetesVersions, c.KubernetesVersion):
		p.Addf("kubernetesVersion", "want %s, got %q", validate.OneOf(KubernetesVersions...), c.KubernetesVersion)
	}
	if c.Endpoint.PublicAccess && len(c.Endpoint.PublicAccessCIDRs) == 0 {
		p.Addf("endpoint.publicAccessCidrs", "required when endpoint.publicAccess is true: the blocks allowed to reach the API server (such as your VPN's egress)")
	}
	if !c.Endpoint.PublicAccess && len(c.Endpoint.PublicAccessCIDRs) > 0 {
		p.Addf("endpoint.publicAccessCidrs", "set, but endpoint.publicAccess is false; turn it on or remove the list")
	}
	for i, cidr := range c.Endpoint.PublicAccessCIDRs {
		pr, err := netip.ParsePrefix(cidr)
		switch {
		case err != nil || !pr.Addr().Is4():
			p.Addf(validate.Index("endpoint.publicAccessCidrs", i), "want an IPv4 CIDR block, got %q", cidr)
		case pr.Bits() == 0:
			p.Addf(validate.Index("endpoint.publicAccessCidrs", i), "%q opens the API server to the whole internet; list the blocks that need it", cidr)
		case pr.Bits() < 16:
			p.Addf(validate.Index("endpoint.publicAccessCidrs", i), "%q opens the API server to %d addresses; list the deployer's and operators' blocks, /16 or narrower", cidr, 1<<(32-pr.Bits()))
		}
	}
	for i, arn := range c.AdminRoleARNs {
		if !roleARN.MatchString(arn) {
			p.Addf(validate.Index("adminRoleArns", i), "want an IAM role ARN such as \"arn:aws:iam::123456789012:role/platform-admin\", got %q", arn)
		}
	}
	if len(c.AdminRoleARNs) == 0 && !c.BootstrapCreatorAdmin {
		p.Addf("adminRoleArns", "want at least one admin role when bootstrapCreatorAdmin is false, or no one (not even pulumi) could manage the cluster")
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		p.Addf("logRetentionDays", "want a period CloudWatch Logs accepts (%v), got %d", retentionDays, c.LogRetentionDays)
	}
	n := c.CoreNodeGroup
	if n.Architecture != ArchARM64 && n.Architecture != ArchAMD64 {
		p.Addf("coreNodeGroup.architecture", "want %s, got %q", validate.OneOf(ArchARM64, ArchAMD64), n.Architecture)
	}
	for i, it := range n.InstanceTypes {
		arch, ok := ArchitectureOf(it)
		switch {
		case !ok:
			p.Addf(validate.Index("coreNodeGroup.instanceTypes", i), "want an EC2 instance type such as \"m7g.large\", got %q", it)
		case (n.Architecture == ArchARM64 || n.Architecture == ArchAMD64) && arch != n.Architecture:
			p.Addf(validate.Index("coreNodeGroup.instanceTypes", i), "%q is %s but coreNodeGroup.architecture is %s", it, arch, n.Architecture)
		}
	}
	if n.MinSize < 1 || n.MinSize > n.DesiredSize || n.DesiredSize > n.MaxSize {
		p.Addf("coreNodeGroup", "want 1 <= minSize <= desiredSize <= maxSize, got %d, %d, %d", n.MinSize, n.DesiredSize, n.MaxSize)
	}
	if n.MaxSize > 100 {
		p.Addf("coreNodeGroup.maxSize", "want at most 100 core nodes (workloads scale on Karpenter nodes), got %d", n.MaxSize)
	}
	if n.DiskSizeGiB < 20 || n.DiskSizeGiB > 1000 {
		p.Addf("coreNodeGroup.diskSizeGiB", "want 20 to 1000 GiB, got %d", n.DiskSizeGiB)
	}
	for _, a := range []struct{ field, v string }{
		{"addons.vpcCni", c.Addons.VpcCni}, {"addons.coreDns", c.Addons.CoreDNS},
		{"addons.kubeProxy", c.Addons.KubeProxy}, {"addons.ebsCsiDriver", c.Addons.EbsCsiDriver},
		{"addons.metricsServer", c.Addons.MetricsServer}, {"addons.cloudWatchObservability", c.Addons.CloudWatchObservability},
	} {
		switch {
		case a.v == "":
			p.Addf(a.field, "required: a pinned add-on version such as \"v1.2.3-eksbuild.1\"")
		case !addonVersion.MatchString(a.v):
			p.Addf(a.field, "want a version such as \"v1.2.3-eksbuild.1\", got %q", a.v)
		}
	}
	if c.Addons.EfsCsiDriver != "" && !addonVersion.MatchString(c.Addons.EfsCsiDriver) {
		p.Addf("addons.efsCsiDriver", "want a version such as \"v1.2.3-eksbuild.1\", got %q", c.Addons.EfsCsiDriver)
	}
	// kube-proxy must match the control plane's minor version.
	if addonVersion.MatchString(c.Addons.KubeProxy) && c.KubernetesVersion != "" &&
		!strings.HasPrefix(c.Addons.KubeProxy, "v"+c.KubernetesVersion+".") {
		p.Addf("addons.kubeProxy", "%q does not match kubernetesVersion %q; kube-proxy must be v%s.x", c.Addons.KubeProxy, c.KubernetesVersion, c.KubernetesVersion)
	}
	return &p
}

// ArchitectureOf tells the CPU architecture of an EC2 instance type from its
// name: Graviton families have a "g" right after the generation (m7g, c8gd).
func ArchitectureOf(instanceTypeName string) (Architecture, bool) {
	m := instanceType.FindStringSubmatch(instanceTypeName)
	if m == nil {
		return "", false
	}
	if gen, _ := strconv.Atoi(m[2]); gen > 0 && strings.HasPrefix(m[3], "g") {
		return ArchARM64, true
	}
	return ArchAMD64, true
}

// AMIType is the managed node group AMI type of an architecture.
func (a Architecture) AMIType() string {
	if a == ArchARM64 {
		return "AL2023_ARM_64_STANDARD"
	}
	return "AL2023_x86_64_STANDARD"
}

// String implements fmt.Stringer.
func (a Architecture) String() string { return string(a) }

var _ fmt.Stringer = ArchAMD64
