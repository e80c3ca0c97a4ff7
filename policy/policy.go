// Package policy is the platform's guardrails: named rules, each following a
// published control (CIS Amazon EKS Benchmark, AWS Foundational Security
// Best Practices, or a chart's own documentation), evaluated over the graph
// `pulumi up` would create, as the offline plan gives it. It serves the
// tests, `go run ./cmd/plan -policy`, any program that imports our
// components and plans itself with package plan, and, through package
// policy/pack (a Pulumi policy pack on policyx), the real `pulumi preview`
// and `pulumi up`.
package policy

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/verify"
)

func init() {
	for _, r := range rules {
		verify.Register(verify.Rule{ID: r.ID, Kind: verify.Guardrail, Front: "guardrails", Description: r.Description, Source: r.Control, Severity: r.Severity})
	}
}

// Severity ranks a rule. A high violation fails the check.
type Severity = verify.Severity

// The severities.
const (
	High   = verify.High
	Medium = verify.Medium
	Low    = verify.Low
)

// Rule is one guardrail.
type Rule struct {
	// ID names the rule in reports and waivers, such as "S3-001".
	ID string
	// Severity ranks it.
	Severity Severity
	// Description says in one line what a resource must do.
	Description string
	// Control is the published control it follows.
	Control string
	check   func(*graph) []Violation
}

// Violation is one resource breaking one rule: a finding of package
// verify, with the rule's severity and, when waived, the waiver's reason.
type Violation = verify.Finding

// Waiver turns a rule off for one stack, with the reason it is acceptable
// there. Waivers live in the stack's config (dataplatform:policy.waivers),
// and every report prints them.
type Waiver struct {
	// Rule is the rule's ID, such as "RDS-005".
	Rule string `json:"rule"`
	// Reason says why the rule does not apply to the stack.
	Reason string `json:"reason"`
}

// Report is the result of a check.
type Report struct {
	// Stack is the plan's stack.
	Stack string `json:"stack"`
	// Rules are the rules checked.
	Rules []Rule `json:"-"`
	// Waivers are the stack's waivers.
	Waivers []Waiver `json:"waivers"`
	// Violations are every broken rule, waived ones included.
	Violations []Violation `json:"violations"`
}

// Rules returns every rule, in ID order.
func Rules() []Rule {
	out := append([]Rule(nil), rules...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Evaluate checks p against every rule. A violation of a waived rule is
// reported with the waiver's reason and does not fail the check. A waiver
// that names no rule, or gives no reason, is an error.
func Evaluate(p *plan.Plan, waivers []Waiver) (Report, error) {
	known := map[string]bool{}
	for _, r := range rules {
		known[r.ID] = true
	}
	reasons := map[string]string{}
	var problems []string
	for i, w := range waivers {
		if !known[w.Rule] {
			problems = append(problems, fmt.Sprintf("dataplatform:policy.waivers[%d].rule: no rule %q; rules are %s", i, w.Rule, strings.Join(ruleIDs(), ", ")))
		}
		if len(strings.TrimSpace(w.Reason)) < 10 {
			problems = append(problems, fmt.Sprintf("dataplatform:policy.waivers[%d].reason: want a reason of at least 10 characters, got %q", i, w.Reason))
		}
		reasons[w.Rule] = w.Reason
	}
	if len(problems) > 0 {
		return Report{}, fmt.Errorf("invalid waivers:\n  - %s", strings.Join(problems, "\n  - "))
	}
	g := newGraph(p)
	rep := Report{Stack: p.Stack, Rules: Rules(), Waivers: waivers, Violations: []Violation{}}
	for _, r := range rep.Rules {
		for _, v := range r.check(g) {
			v.Rule, v.Severity, v.Waived = r.ID, r.Severity, reasons[r.ID]
			rep.Violations = append(rep.Violations, v)
		}
	}
	sort.SliceStable(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.URN < b.URN
	})
	return rep, nil
}

func ruleIDs() []string {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// Failed reports whether a high-severity violation is not waived.
func (r Report) Failed() bool {
	for _, v := range r.Violations {
		if v.Severity == High && v.Waived == "" {
			return true
		}
	}
	return false
}

// Unwaived returns the violations no waiver covers.
func (r Report) Unwaived() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Waived == "" {
			out = append(out, v)
		}
	}
	return out
}

// WriteText prints the rules checked, the waivers with their reasons, and
// every violation.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Policy check of stack %s: %d rules\n", r.Stack, len(r.Rules))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, rule := range r.Rules {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", rule.ID, rule.Severity, rule.Description, rule.Control)
	}
	_ = tw.Flush()
	if len(r.Waivers) > 0 {
		fmt.Fprintf(&b, "\nWaived in this stack's config:\n")
		for _, wv := range r.Waivers {
			fmt.Fprintf(&b, "  %-9s %s\n", wv.Rule, wv.Reason)
		}
	}
	unwaived := r.Unwaived()
	fmt.Fprintf(&b, "\nViolations: %d (%d waived)\n", len(unwaived), len(r.Violations)-len(unwaived))
	for _, v := range r.Violations {
		mark := "✗"
		if v.Waived != "" {
			mark = "~"
		}
		fmt.Fprintf(&b, "  %s %-9s %-7s %s %s: %s\n", mark, v.Rule, v.Severity, v.Type, v.Name, v.Message)
	}
	if r.Failed() {
		b.WriteString("\nFAILED: high-severity violations\n")
	} else {
		b.WriteString("\nPASSED\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// graph indexes a plan for the rules.
type graph struct {
	p       *plan.Plan
	byType  map[string][]plan.Resource
	cluster []plan.ClusterObject
}

func newGraph(p *plan.Plan) *graph {
	g := &graph{p: p, byType: map[string][]plan.Resource{}}
	for _, r := range p.Resources {
		g.byType[r.Type] = append(g.byType[r.Type], r)
	}
	return g
}

func (g *graph) of(types ...string) []plan.Resource {
	var out []plan.Resource
	for _, t := range types {
		out = append(out, g.byType[t]...)
	}
	return out
}

func violation(r plan.Resource, format string, args ...any) Violation {
	return Violation{URN: r.URN, Type: r.Type, Name: r.Name, Message: fmt.Sprintf(format, args...)}
}
func boolean(m map[string]any, path ...string) bool {
	b, _ := at(m, path...).(bool)
	return b
}

func number(m map[string]any, path ...string) (float64, bool) {
	f, ok := at(m, path...).(float64)
	return f, ok
}
func objects(v any) []map[string]any { return plan.Maps(v) }

// at, str and list read a resource's inputs; see plan.At, plan.StringAt and plan.Strings.
var (
	at   = plan.At
	str  = plan.StringAt
	list = plan.Strings
)
