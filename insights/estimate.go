// Package insights answers, from the offline plan alone, the two questions
// platform engineers defend an environment with: what it costs each month
// when nobody uses it, and how long a deploy takes. The figures are models,
// with their inputs (a price table, a table of creation times) kept in the
// repository beside their sources.
package insights

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

//go:embed prices.json
var pricesJSON []byte

// PriceTable is the price list the estimate uses.
type PriceTable struct {
	// Region and Currency of every price.
	Region   string `json:"region"`
	Currency string `json:"currency"`
	// HoursPerMonth turns hourly prices into monthly ones (730).
	HoursPerMonth float64 `json:"hoursPerMonth"`
	// Date the prices were recorded, and a Note on where they come from.
	Date string `json:"date"`
	Note string `json:"note"`
	// Prices by key, such as "eks.cluster.hour".
	Prices map[string]Price `json:"prices"`
}

// Price is one list price with its unit and source.
type Price struct {
	// USD per Unit.
	USD  float64 `json:"usd"`
	Unit string  `json:"unit"`
	// Source is the pricing page the price was read from.
	Source string `json:"source"`
}

// Prices returns the price table kept in the repository.
func Prices() PriceTable {
	var t PriceTable
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		panic(fmt.Sprintf("insights: prices.json: %v", err))
	}
	return t
}

// Line is the monthly cost of one resource.
type Line struct {
	// Type and Name identify the resource.
	Type string `json:"type"`
	Name string `json:"name"`
	// What is priced, in words.
	What string `json:"what"`
	// USD a month.
	USD float64 `json:"usd"`
	// Prices are the keys of the prices used.
	Prices []string `json:"prices"`
}

// Missing is a resource that costs money but has no price in the table.
type Missing struct {
	// Type and Name identify the resource.
	Type string `json:"type"`
	Name string `json:"name"`
	// Price is the key missing from the table.
	Price string `json:"price"`
}

// Estimate is a stack's monthly cost when idle.
type Estimate struct {
	// Stack is the plan's stack; Region and PriceDate those of the price table.
	Stack     string `json:"stack"`
	Region    string `json:"region"`
	PriceDate string `json:"priceDate"`
	// Lines are the priced resources, most expensive first.
	Lines []Line `json:"lines"`
	// Missing are resources that cost money but have no price: not counted.
	Missing []Missing `json:"missing"`
	// TotalUSD is the sum of the lines.
	TotalUSD float64 `json:"totalUsd"`
	// Assumptions say what the estimate leaves out.
	Assumptions []string `json:"assumptions"`
}

// Assumptions are what the estimate leaves out: costs that depend on use.
var Assumptions = []string{
	"Idle platform: only what runs whether or not anyone uses it is counted, at on-demand list prices for 730 hours a month.",
	"Karpenter nodes: the always-on pods (the Deployments and StatefulSets of every release, from their rendered requests and replicas) are packed by total CPU and memory onto the cheapest on-demand instance type each NodePool allows, with 0.4 vCPU and 0.9 GiB of each node kept for the kubelet, the system and the DaemonSets. A pool that allows spot (dev's) usually pays 60-70% less while spot lasts. Sync and task pods come on top, only while they run.",
	"Persistent volumes: every claim the charts and the program create is counted as gp3; the platform's charts create none (the triggerer's log volume is off, logs go to S3).",
	"Data transfer is not counted: NAT gateway processing ($0.045/GB), inter-AZ traffic ($0.01/GB each way), internet egress.",
	"Usage-priced services are not counted: Container Insights metrics and logs, ECR and EFS storage, CloudWatch Logs ingestion and storage, S3 storage and requests, KMS and Secrets Manager API calls, SQS and EventBridge requests, load balancer capacity units, RDS backup storage beyond the database's size, Performance Insights beyond the free 7 days.",
	"The apps' ingresses share one Application Load Balancer (one ingress group).",
	"Audit: the trail is assumed to be the region's first copy of management events (free; an account that already has a trail pays $2.00 per 100,000 for this copy). Its S3 data events cost $0.10 per 100,000 object reads and writes of the data buckets, only while syncs and tasks run; its log files are S3 storage (not counted).",
}

// Estimate prices every resource of p that costs money while idle.
func EstimateCost(p *plan.Plan, prices PriceTable) Estimate {
	e := Estimate{Stack: p.Stack, Region: prices.Region, PriceDate: prices.Date, Lines: []Line{}, Missing: []Missing{}, Assumptions: Assumptions}
	h := prices.HoursPerMonth
	byURN := map[string]plan.Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	add := func(r plan.Resource, what string, keys []string, usd func(map[string]float64) float64) {
		got := map[string]float64{}
		for _, k := range keys {
			pr, ok := prices.Prices[k]
			if !ok {
				e.Missing = append(e.Missing, Missing{Type: r.Type, Name: r.Name, Price: k})
				return
			}
			got[k] = pr.USD
		}
		e.Lines = append(e.Lines, Line{Type: r.Type, Name: r.Name, What: what, USD: round(usd(got)), Prices: keys})
	}
	albGroups := map[string]bool{}
	for _, r := range p.Resources {
		in := r.Inputs
		switch r.Type {
		case "aws:eks/cluster:Cluster":
			add(r, "EKS control plane", []string{"eks.cluster.hour"}, func(v map[string]float64) float64 { return h * v["eks.cluster.hour"] })
		case "aws:eks/nodeGroup:NodeGroup":
			types := plan.Strings(in["instanceTypes"])
			n := num(at(in, "scalingConfig", "desiredSize"))
			disk := 20.0
			for _, d := range r.Dependencies {
				if lt, ok := byURN[d]; ok && lt.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
					if bdm, ok := lt.Inputs["blockDeviceMappings"].([]any); ok && len(bdm) > 0 {
						disk = num(at(bdm[0].(map[string]any), "ebs", "volumeSize"))
					}
				}
			}
			if len(types) == 0 {
				continue
			}
			key := "ec2.instance." + types[0] + ".hour"
			add(r, fmt.Sprintf("%.0f × %s on-demand, %.0f GiB gp3 each", n, types[0], disk), []string{key, "ec2.ebs.gp3.gbmonth"},
				func(v map[string]float64) float64 { return n * (h*v[key] + disk*v["ec2.ebs.gp3.gbmonth"]) })
		case "aws:ec2/natGateway:NatGateway":
			add(r, "NAT gateway (hours only)", []string{"ec2.natgateway.hour"}, func(v map[string]float64) float64 { return h * v["ec2.natgateway.hour"] })
		case "aws:ec2/instance:Instance":
			typ := str(in, "instanceType")
			disk := num(at(in, "rootBlockDevice", "volumeSize"))
			key := "ec2.instance." + typ + ".hour"
			add(r, fmt.Sprintf("1 × %s on-demand (standard credits), %.0f GiB gp3", typ, disk), []string{key, "ec2.ebs.gp3.gbmonth"},
				func(v map[string]float64) float64 { return h*v[key] + disk*v["ec2.ebs.gp3.gbmonth"] })
			if b, _ := in["associatePublicIpAddress"].(bool); b {
				add(r, "its public IPv4 address", []string{"ec2.publicipv4.hour"}, func(v map[string]float64) float64 { return h * v["ec2.publicipv4.hour"] })
			}
		case "aws:ec2/eip:Eip":
			add(r, "public IPv4 address", []string{"ec2.publicipv4.hour"}, func(v map[string]float64) float64 { return h * v["ec2.publicipv4.hour"] })
		case "aws:ec2/vpcEndpoint:VpcEndpoint":
			if str(in, "vpcEndpointType") != "Interface" {
				continue // gateway endpoints are free
			}
			azs := float64(len(plan.Strings(in["subnetIds"])))
			add(r, fmt.Sprintf("interface endpoint in %.0f AZs", azs), []string{"ec2.vpcendpoint.interface.hour"},
				func(v map[string]float64) float64 { return azs * h * v["ec2.vpcendpoint.interface.hour"] })
		case "aws:rds/instance:Instance":
			class := str(in, "instanceClass")
			multi := 1.0
			if b, _ := in["multiAz"].(bool); b {
				multi = 2
			}
			storage := num(in["allocatedStorage"])
			what := fmt.Sprintf("%s PostgreSQL", class)
			if src := str(in, "replicateSourceDb"); src != "" {
				what += " read replica"
				for _, o := range p.Resources {
					if o.Type == r.Type && str(o.Inputs, "identifier") == src {
						storage = num(o.Inputs["allocatedStorage"])
					}
				}
			}
			if multi == 2 {
				what += ", Multi-AZ"
			}
			what += fmt.Sprintf(", %.0f GB gp3", storage)
			key := "rds.postgres." + class + ".hour"
			add(r, what, []string{key, "rds.gp3.gbmonth"}, func(v map[string]float64) float64 {
				return multi * (h*v[key] + storage*v["rds.gp3.gbmonth"])
			})
			if b, _ := in["manageMasterUserPassword"].(bool); b {
				add(r, "its RDS-managed master password secret", []string{"secretsmanager.secret.month"},
					func(v map[string]float64) float64 { return v["secretsmanager.secret.month"] })
			}
		case "aws:kms/key:Key":
			add(r, "KMS key", []string{"kms.key.month"}, func(v map[string]float64) float64 { return v["kms.key.month"] })
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			add(r, "CloudWatch alarm", []string{"cloudwatch.alarm.month"}, func(v map[string]float64) float64 { return v["cloudwatch.alarm.month"] })
		case "aws:cloudtrail/trail:Trail":
			// Idle, no sync or task reads the data buckets: no data events.
			add(r, "audit trail: management events as the region's first copy, no S3 data events while idle", []string{"cloudtrail.dataevents.100k"},
				func(v map[string]float64) float64 { return 0 })
		case "aws:secretsmanager/secret:Secret":
			add(r, "Secrets Manager secret", []string{"secretsmanager.secret.month"}, func(v map[string]float64) float64 { return v["secretsmanager.secret.month"] })
		case "kubernetes:helm.sh/v3:Release":
			for _, ing := range albIngresses(in["values"]) {
				if ing != "" && albGroups[ing] {
					continue
				}
				albGroups[ing] = true
				what := "Application Load Balancer of its ingress"
				if ing != "" {
					what = "Application Load Balancer of ingress group " + ing
				}
				add(r, what, []string{"elb.alb.hour"}, func(v map[string]float64) float64 { return h * v["elb.alb.hour"] })
			}
		}
	}
	poolCapacity(p, prices, add)
	claimsCost(p, add)
	sort.SliceStable(e.Lines, func(i, j int) bool { return e.Lines[i].USD > e.Lines[j].USD })
	for _, l := range e.Lines {
		e.TotalUSD += l.USD
	}
	e.TotalUSD = round(e.TotalUSD)
	return e
}

// albIngresses finds the ALB ingresses in Helm values (maps carrying the
// load balancer controller's annotations) and returns their group names
// ("" for an ingress of its own).
func albIngresses(v any) []string {
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch m := x.(type) {
		case map[string]any:
			if scheme, ok := m["alb.ingress.kubernetes.io/scheme"]; ok && scheme != nil {
				g, _ := m["alb.ingress.kubernetes.io/group.name"].(string)
				out = append(out, g)
				return
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(m[k])
			}
		case []any:
			for _, e := range m {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// WriteText prints the estimate: a line a resource, the total, what had no
// price, and the assumptions.
func (e Estimate) WriteText(w io.Writer, prices PriceTable) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Monthly cost of stack %s when idle (%s on-demand list prices of %s, %s)\n\n", e.Stack, e.Region, e.PriceDate, prices.Currency)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "  %9.2f  %-48s %s\n", l.USD, l.Type+" "+l.Name, l.What)
	}
	fmt.Fprintf(&b, "  ---------\n  %9.2f  total\n", e.TotalUSD)
	if len(e.Missing) > 0 {
		b.WriteString("\nNo price in the table (not counted):\n")
		for _, m := range e.Missing {
			fmt.Fprintf(&b, "  %s %s: needs %q\n", m.Type, m.Name, m.Price)
		}
	}
	b.WriteString("\nAssumptions:\n")
	for _, a := range e.Assumptions {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	fmt.Fprintf(&b, "\nPrices: insights/prices.json (%s). %s\n", prices.Date, prices.Note)
	_, err := io.WriteString(w, b.String())
	return err
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// at and str read a resource's inputs; see plan.At and plan.StringAt.
var (
	at  = plan.At
	str = plan.StringAt
)
