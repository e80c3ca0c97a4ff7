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
	c := &costing{plan: p, hours: prices.HoursPerMonth, byURN: map[string]plan.Resource{}, albGroups: map[string]bool{}}
	for _, r := range p.Resources {
		c.byURN[r.URN] = r
	}
	c.add = func(r plan.Resource, what string, keys []string, usd func(map[string]float64) float64) {
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
	for _, r := range p.Resources {
		if price, ok := pricers[r.Type]; ok {
			price(c, r)
		}
	}
	poolCapacity(p, prices, c.add)
	claimsCost(p, c.add)
	sort.SliceStable(e.Lines, func(i, j int) bool { return e.Lines[i].USD > e.Lines[j].USD })
	for _, l := range e.Lines {
		e.TotalUSD += l.USD
	}
	e.TotalUSD = round(e.TotalUSD)
	return e
}

// costing is what the pricers share while EstimateCost runs.
type costing struct {
	plan  *plan.Plan
	hours float64
	byURN map[string]plan.Resource
	// albGroups are the ingress groups already priced: one ALB per group.
	albGroups map[string]bool
	add       func(r plan.Resource, what string, keys []string, usd func(map[string]float64) float64)
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
