package insights

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

// Duration is the typical time to create one resource type, with where the
// figure comes from.
type Duration struct {
	// Seconds the creation takes.
	Seconds float64
	// Source says where the figure comes from.
	Source string
}

// CreationTimes are typical creation times by resource type. Types not
// listed take DefaultCreation (API calls that return at once).
var CreationTimes = map[string]Duration{
	"aws:eks/cluster:Cluster":                          {660, "EKS user guide: creating a cluster takes 10 to 15 minutes"},
	"aws:eks/nodeGroup:NodeGroup":                      {210, "EKS managed node groups: instances launch, join and turn Ready in 3 to 4 minutes"},
	"aws:eks/addon:Addon":                              {60, "EKS add-ons return ACTIVE in about a minute once nodes exist"},
	"aws:ec2/natGateway:NatGateway":                    {120, "VPC: a NAT gateway turns available in 1 to 3 minutes"},
	"aws:ec2/instance:Instance":                        {90, "EC2: the provider waits for the instance to run (under a minute); a NAT instance's user data then installs iptables in about half a minute"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                  {90, "PrivateLink: interface endpoints take 1 to 2 minutes (gateway endpoints, seconds)"},
	"aws:rds/instance:Instance":                        {480, "RDS: a single-AZ PostgreSQL instance is available in 5 to 10 minutes (Multi-AZ and replicas: see rdsSeconds)"},
	"aws:ec2/internetGateway:InternetGateway":          {5, "API call plus attachment"},
	"aws:iam/role:Role":                                {8, "IAM is eventually consistent: the provider waits for the role to propagate"},
	"aws:kms/key:Key":                                  {5, "API call; the provider waits for the key to be Enabled"},
	"aws:cloudwatch/eventRule:EventRule":               {3, "API call"},
	"kubernetes:helm.sh/v3:Release":                    {90, "Helm install with --wait: images pulled and pods Ready (per-chart figures in releaseSeconds)"},
	"kubernetes:external-secrets.io/v1:ExternalSecret": {10, "the operator syncs within seconds; Pulumi waits for Ready"},
	"kubernetes:external-secrets.io/v1:SecretStore":    {10, "the operator validates the store (assuming its role) within seconds; Pulumi waits for Ready"},
	"kubernetes:karpenter.sh/v1:NodePool":              {3, "a Kubernetes object; nodes come later, on demand"},
	"kubernetes:batch/v1:Job":                          {45, "Pulumi waits until a Job completes: an image pulled and a short run"},
	"aws:s3/bucketV2:BucketV2":                         {3, "API call"},
}

// DefaultCreation is the time of any other resource (an API call).
var DefaultCreation = Duration{2, "API call"}

// releaseSeconds are the install times of the charts the platform uses.
var releaseSeconds = map[string]Duration{
	"airbyte":                      {600, "Airbyte's bootloader migrates its database and Temporal sets up its schemas on first install (about 10 minutes)"},
	"airflow":                      {300, "Airflow's migration job and the create-user job run on install (about 5 minutes)"},
	"aws-load-balancer-controller": {60, "two small deployments and a webhook"},
	"karpenter-crd":                {10, "CRDs only: no pods to wait for"},
	"external-secrets":             {60, "three small deployments and CRDs"},
}

// ChartName is the chart a Helm release installs: its vendored archive
// "charts/airbyte-2.2.0.tgz" installs chart "airbyte".
func ChartName(r plan.Resource) string {
	chart, _ := r.Inputs["chart"].(string)
	version, _ := r.Inputs["version"].(string)
	return strings.TrimSuffix(path.Base(chart), "-"+version+".tgz")
}

// rdsSeconds refines RDS: Multi-AZ instances and replicas take longer.
func rdsSeconds(r plan.Resource) Duration {
	if src, _ := r.Inputs["replicateSourceDb"].(string); src != "" {
		return Duration{600, "RDS: a read replica is created from a snapshot of the primary (about 10 minutes)"}
	}
	if multi, _ := r.Inputs["multiAz"].(bool); multi {
		return Duration{900, "RDS: a Multi-AZ instance provisions and syncs its standby (about 15 minutes)"}
	}
	return CreationTimes["aws:rds/instance:Instance"]
}

// TimeOf is the modelled creation time of r.
func TimeOf(r plan.Resource) Duration {
	if strings.HasPrefix(r.Type, "pulumi:providers:") {
		return Duration{0, "a provider is configured, not created"}
	}
	if !strings.Contains(r.Type, "/") && strings.Count(r.Type, ":") == 2 {
		return Duration{0, "a component resource groups its children and takes no time itself"}
	}
	switch r.Type {
	case "aws:rds/instance:Instance":
		return rdsSeconds(r)
	case "kubernetes:helm.sh/v3:Release":
		if d, ok := releaseSeconds[ChartName(r)]; ok {
			return d
		}
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		if t, _ := r.Inputs["vpcEndpointType"].(string); t == "Gateway" {
			return Duration{5, "a gateway endpoint is a route table entry"}
		}
	}
	if d, ok := CreationTimes[r.Type]; ok {
		return d
	}
	return DefaultCreation
}

// Step is one resource on the critical path.
type Step struct {
	// Type and Name identify the resource.
	Type string `json:"type"`
	Name string `json:"name"`
	// Start is when its creation starts, in seconds from the deploy's start.
	Start float64 `json:"start"`
	// Seconds its creation takes, and the Source of that figure.
	Seconds float64 `json:"seconds"`
	Source  string  `json:"source"`
}

// CriticalPath is the modelled deploy time of a plan.
type CriticalPath struct {
	// Stack is the plan's stack.
	Stack string `json:"stack"`
	// Chain is the longest chain of dependent creations, first to last.
	Chain []Step `json:"chain"`
	// TotalSeconds is the length of that chain: the deploy's modelled duration.
	TotalSeconds float64 `json:"totalSeconds"`
	// SerialSeconds is what creating every resource one after another would take.
	SerialSeconds float64 `json:"serialSeconds"`
	// Finish is each resource's modelled finish time, by URN.
	Finish map[string]float64 `json:"-"`
}

// Critical computes the critical path of p: each resource starts when all
// it depends on have finished (Pulumi creates everything else in parallel).
// A multi-language component (pulumi-eks's cluster) is done when all of its
// children are, and its children start once what it waits for is done.
func Critical(p *plan.Plan) CriticalPath {
	byURN := map[string]plan.Resource{}
	children := map[string][]string{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
		children[r.Parent] = append(children[r.Parent], r.URN)
	}
	waitsFor := func(r plan.Resource) []string {
		deps := append([]string(nil), r.Dependencies...)
		for a := byURN[r.Parent]; a.URN != ""; a = byURN[a.Parent] {
			if a.Remote {
				deps = append(deps, a.Dependencies...)
			}
		}
		if r.Remote {
			var walk func(string)
			walk = func(u string) {
				for _, c := range children[u] {
					deps = append(deps, c)
					walk(c)
				}
			}
			walk(r.URN)
		}
		sort.Strings(deps)
		return deps
	}
	finish := map[string]float64{}
	prev := map[string]string{}
	var visit func(urn string) float64
	visiting := map[string]bool{}
	visit = func(urn string) float64 {
		if f, ok := finish[urn]; ok {
			return f
		}
		r, ok := byURN[urn]
		if !ok || visiting[urn] {
			return 0
		}
		visiting[urn] = true
		start, from := 0.0, ""
		for _, d := range waitsFor(r) {
			if f := visit(d); f > start {
				start, from = f, d
			}
		}
		visiting[urn] = false
		finish[urn] = start + TimeOf(r).Seconds
		prev[urn] = from
		return finish[urn]
	}
	cp := CriticalPath{Stack: p.Stack, Finish: finish}
	last := ""
	for _, r := range p.Resources {
		cp.SerialSeconds += TimeOf(r).Seconds
		if f := visit(r.URN); f > cp.TotalSeconds || (f == cp.TotalSeconds && last == "") {
			cp.TotalSeconds, last = f, r.URN
		}
	}
	for u := last; u != ""; u = prev[u] {
		r := byURN[u]
		d := TimeOf(r)
		if d.Seconds == 0 && prev[u] != "" {
			continue
		}
		cp.Chain = append([]Step{{Type: r.Type, Name: r.Name, Start: finish[u] - d.Seconds, Seconds: d.Seconds, Source: d.Source}}, cp.Chain...)
	}
	return cp
}

// DependsOn reports whether resource urn waits, directly or not, for ancestor.
func DependsOn(p *plan.Plan, urn, ancestor string) bool {
	byURN := map[string]plan.Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(u string) bool {
		if seen[u] {
			return false
		}
		seen[u] = true
		for _, d := range byURN[u].Dependencies {
			if d == ancestor || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(urn)
}

// WriteText prints the chain with start times, the total and the serial time.
func (c CriticalPath) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Critical path of stack %s: %s (a fully serial deploy: %s)\n\n", c.Stack, minutes(c.TotalSeconds), minutes(c.SerialSeconds))
	for _, s := range c.Chain {
		fmt.Fprintf(&b, "  %7s +%-6s %-58s %s\n", minutes(s.Start), minutes(s.Seconds), s.Type+" "+s.Name, s.Source)
	}
	fmt.Fprintf(&b, "\nCreation times: insights/criticalpath.go (CreationTimes), each with its source.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func minutes(s float64) string {
	m := int(s) / 60
	return fmt.Sprintf("%d:%02d", m, int(s)%60)
}
