package stackconfig

import (
	"sort"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// AirbyteSizes size Airbyte's long-running components (and the
// bootloader), by the chart's key. The chart sets none, so without them
// the pods request nothing and Karpenter sizes no node for them. The Java
// services (server, worker, workload API and launcher, cron, bootloader)
// run a JVM whose heap is a share of the memory limit; Temporal is a Go
// server; the manifest server is Python.
var AirbyteSizes = map[string]Size{
	"server":            {CPU: "200m", Memory: "1Gi", MemoryLimit: "2Gi"},
	"worker":            {CPU: "200m", Memory: "1Gi", MemoryLimit: "2Gi"},
	"workloadApiServer": {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"workloadLauncher":  {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"cron":              {CPU: "50m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"temporal":          {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"airbyteBootloader": {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"manifestServer":    {CPU: "50m", Memory: "256Mi", MemoryLimit: "512Mi"},
}

// AirflowSizes size Airflow's components, by the chart's key. The
// chart sets none; the components' init containers (waiting for the
// migrations) take their component's. Airflow 3's scheduler, API server
// and DAG processor are Python processes of a few hundred MiB each; the
// API server runs several workers. PgBouncer and its exporter are small C
// and Go processes.
var AirflowSizes = map[string]Size{
	"scheduler":          {CPU: "250m", Memory: "1Gi", MemoryLimit: "2Gi"},
	"apiServer":          {CPU: "250m", Memory: "1Gi", MemoryLimit: "2Gi"},
	"dagProcessor":       {CPU: "250m", Memory: "768Mi", MemoryLimit: "1536Mi"},
	"triggerer":          {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"pgbouncer":          {CPU: "50m", Memory: "64Mi", MemoryLimit: "256Mi"},
	"pgbouncerExporter":  {CPU: "10m", Memory: "32Mi", MemoryLimit: "64Mi"},
	"migrateDatabaseJob": {CPU: "250m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"createUserJob":      {CPU: "100m", Memory: "512Mi", MemoryLimit: "1Gi"},
	"gitSync":            {CPU: "10m", Memory: "64Mi", MemoryLimit: "256Mi"},
	"logGroomer":         {CPU: "10m", Memory: "32Mi", MemoryLimit: "128Mi"},
}

// Sizes override the default sizes of an app's components, by the chart's
// key of the component; a field left empty keeps its default.
type Sizes map[string]Size

// of returns the size of component: the override's fields over the default.
func (s Sizes) of(component string, defaults map[string]Size) Size {
	out := defaults[component]
	o := s[component]
	if o.CPU != "" {
		out.CPU = o.CPU
	}
	if o.Memory != "" {
		out.Memory = o.Memory
	}
	if o.MemoryLimit != "" {
		out.MemoryLimit = o.MemoryLimit
	}
	return out
}

// validate reports overrides of unknown components and fields that are
// not Kubernetes quantities.
func (s Sizes) validate(p *validate.Problems, field string, defaults map[string]Size) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	known := make([]string, 0, len(defaults))
	for k := range defaults {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range keys {
		if _, ok := defaults[k]; !ok {
			p.Addf(field+"."+k, "no such component; want %s", validate.OneOf(known...))
			continue
		}
		for _, f := range []struct{ name, q string }{{"cpu", s[k].CPU}, {"memory", s[k].Memory}, {"memoryLimit", s[k].MemoryLimit}} {
			if f.q != "" && !quantity.MatchString(f.q) {
				p.Addf(field+"."+k+"."+f.name, "want a Kubernetes quantity such as \"250m\" or \"1Gi\", got %q", f.q)
			}
		}
	}
}

// Size returns the size of one of Airbyte's components (AirbyteSizes,
// overridden by Resources).
func (c Airbyte) Size(component string) Size { return c.Resources.of(component, AirbyteSizes) }

// Size returns the size of one of Airflow's components (AirflowSizes,
// overridden by Resources).
func (c Airflow) Size(component string) Size { return c.Resources.of(component, AirflowSizes) }
