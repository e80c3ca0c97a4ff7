package stackconfig

import (
	"regexp"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Airbyte is the stack config of Airbyte (dataplatform:apps.airbyte).
type Airbyte struct {
	// ChartVersion pins the Airbyte V2 chart, such as "2.2.0". Required.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Namespace Airbyte runs in. Default "airbyte".
	Namespace string `json:"namespace,omitempty"`
	// Host is the web app's host name on the load balancer. Required.
	Host string `json:"host,omitempty"`
	// ImageRegistry pulls Airbyte's own images from a mirror, such as
	// "123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror". Default: Docker Hub.
	ImageRegistry string `json:"imageRegistry,omitempty"`
	// MirrorConnectors pulls connector images from ImageRegistry too.
	// Default false: connectors come from Docker Hub even with a mirror.
	MirrorConnectors bool `json:"mirrorConnectors,omitempty"`
	// JobNodePool is the Karpenter NodePool sync jobs run on (its nodes
	// selected, its taints tolerated), such as a spot pool: Airbyte retries
	// a job whose node is reclaimed. Default: wherever they fit.
	JobNodePool string `json:"jobNodePool,omitempty"`
	// ConnectorArchitecture is the CPU architecture sync, check and
	// discover jobs run on: "amd64", "arm64", or "any" when every connector
	// the platform uses is published for both. Default "amd64": every
	// connector is built for it, while Airbyte's connector metadata says
	// nothing of arm64 and third-party connectors are often amd64 only.
	ConnectorArchitecture string `json:"connectorArchitecture,omitempty"`
	// Jobs are the resources of each sync job's main container.
	Jobs JobResources `json:"jobs,omitempty"`
	// Resources override the sizes of Airbyte's long-running components
	// (AirbyteSizes), by the chart's key: server, worker,
	// workloadApiServer, workloadLauncher, cron, temporal,
	// airbyteBootloader, manifestServer.
	Resources Sizes `json:"resources,omitempty"`
	// ServerReplicas and WorkloadLauncherReplicas. Default 1 each.
	ServerReplicas           int `json:"serverReplicas,omitempty"`
	WorkloadLauncherReplicas int `json:"workloadLauncherReplicas,omitempty"`
}

// JobResources are the requests and limits of the container that runs a
// job's code: an Airbyte connector in a sync, or an Airflow task.
type JobResources struct {
	// CPURequest of the container. Default "250m".
	CPURequest string `json:"cpuRequest,omitempty"`
	// CPULimit of the container. Default "1".
	CPULimit string `json:"cpuLimit,omitempty"`
	// MemoryRequest of the container. Default "512Mi".
	MemoryRequest string `json:"memoryRequest,omitempty"`
	// MemoryLimit of the container. Default "2Gi".
	MemoryLimit string `json:"memoryLimit,omitempty"`
}

// WithDefaults returns r with every unset field given its default.
func (r JobResources) WithDefaults() JobResources {
	for _, f := range []struct {
		v   *string
		def string
	}{{&r.CPURequest, "250m"}, {&r.CPULimit, "1"}, {&r.MemoryRequest, "512Mi"}, {&r.MemoryLimit, "2Gi"}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	return r
}

// validate reports every field of r that is not a Kubernetes quantity,
// under field.
func (r JobResources) validate(p *validate.Problems, field string) {
	for _, f := range []struct{ name, q string }{
		{"cpuRequest", r.CPURequest}, {"cpuLimit", r.CPULimit}, {"memoryRequest", r.MemoryRequest}, {"memoryLimit", r.MemoryLimit},
	} {
		if !quantity.MatchString(f.q) {
			p.Addf(field+"."+f.name, "want a Kubernetes quantity such as \"500m\" or \"2Gi\", got %q", f.q)
		}
	}
}

var (
	registryName = regexp.MustCompile(`^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*$`)
)

// WithDefaults returns c with every unset field given its default.
func (c Airbyte) WithDefaults() Airbyte {
	if c.Namespace == "" {
		c.Namespace = AirbyteNamespace
	}
	c.Jobs = c.Jobs.WithDefaults()
	if c.ConnectorArchitecture == "" {
		c.ConnectorArchitecture = "amd64"
	}
	if c.ServerReplicas == 0 {
		c.ServerReplicas = 1
	}
	if c.WorkloadLauncherReplicas == 0 {
		c.WorkloadLauncherReplicas = 1
	}
	return c
}

// Validate reports every problem of a defaulted Airbyte.
func (c Airbyte) Validate() *validate.Problems {
	var p validate.Problems
	if !semver.MatchString(c.ChartVersion) {
		p.Addf("chartVersion", "required: an Airbyte V2 chart version such as \"2.2.0\", got %q", c.ChartVersion)
	}
	if !dnsLabel.MatchString(c.Namespace) {
		p.Addf("namespace", "want a Kubernetes namespace name, got %q", c.Namespace)
	}
	if !hostname.MatchString(c.Host) {
		p.Addf("host", "required: the web app's host name, such as \"airbyte.example.com\", got %q", c.Host)
	}
	if c.ImageRegistry != "" && !registryName.MatchString(c.ImageRegistry) {
		p.Addf("imageRegistry", "want a registryName such as \"123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror\", got %q", c.ImageRegistry)
	}
	if c.MirrorConnectors && c.ImageRegistry == "" {
		p.Addf("mirrorConnectors", "needs imageRegistry")
	}
	c.Jobs.validate(&p, "jobs")
	c.Resources.validate(&p, "resources", AirbyteSizes)
	if c.ConnectorArchitecture != "amd64" && c.ConnectorArchitecture != "arm64" && c.ConnectorArchitecture != "any" {
		p.Addf("connectorArchitecture", "want %s, got %q", validate.OneOf("amd64", "arm64", "any"), c.ConnectorArchitecture)
	}
	for field, n := range map[string]int{"serverReplicas": c.ServerReplicas, "workloadLauncherReplicas": c.WorkloadLauncherReplicas} {
		if n < 1 || n > 10 {
			p.Addf(field, "want 1 to 10, got %d", n)
		}
	}
	return &p
}

// Size is what one container of a platform component requests, and the
// most memory it may use. CPU is not limited: a busy component borrows
// idle CPU instead of being throttled.
type Size struct {
	// CPU requested, such as "250m".
	CPU string `json:"cpu,omitempty"`
	// Memory requested, such as "1Gi".
	Memory string `json:"memory,omitempty"`
	// MemoryLimit is the most memory the container may use, such as "2Gi".
	MemoryLimit string `json:"memoryLimit,omitempty"`
}

// Requirements are a container's resources block, as Kubernetes (and the
// charts' values) write it.
type Requirements struct {
	// Requests are the CPU and memory the scheduler reserves.
	Requests map[string]string `json:"requests"`
	// Limits cap what the container may use.
	Limits map[string]string `json:"limits,omitempty"`
}

// Requirements returns s as a resources block.
func (s Size) Requirements() *Requirements {
	return &Requirements{Requests: map[string]string{"cpu": s.CPU, "memory": s.Memory}, Limits: map[string]string{"memory": s.MemoryLimit}}
}
