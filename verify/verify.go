// Package verify is the one framework of everything the platform checks
// before a deploy: one registry of rules, two kinds of rule, one finding.
//
// A rule is of one of two kinds:
//
//   - a Refusal: AWS, Kubernetes or Helm would refuse what the program
//     asks for, or the platform would break once it runs. A refusal fails
//     the plan (plan.Run) and has no waiver. Its source is the API
//     reference, the provider's validation, or the chart or app whose
//     behaviour it follows.
//   - a Guardrail: a published control (CIS, AWS Foundational Security
//     Best Practices, a project's security guide). It has a severity, a
//     high one fails `cmd/plan -policy` and the policy pack, and a stack may
//     waive it with a reason (dataplatform:policy.waivers).
//
// Rules run in three places, each registering its rules here:
//
//   - the fake AWS (internal/mocks): refusals about each resource's
//     inputs, names and ARNs, and across resources ("name/…", "input/…",
//     "across/…"): a new limit of an AWS API goes in its tables;
//   - the object checks (package plan, checks.go): refusals about the
//     Kubernetes objects the plan renders and creates ("k8s/…", "helm/…"):
//     a new check of what a chart or app needs goes in objectChecks;
//   - the guardrails (package policy, rules.go): controls over the whole
//     graph ("IAM-002", "K8S-001", …): a new control goes in its rules,
//     and then also runs in the policy pack (policy/pack). A control over
//     the rendered Kubernetes objects goes in package plan's
//     objectGuardrails ("k8s/db-tls", "k8s/waits"), which policy makes
//     rules of.
//
// Every rule has a negative control in the tests: an input broken the way
// the rule forbids, and the rule's finding with its message. Rule IDs never
// change, so that waivers in the stack files keep working.
// `go run ./cmd/plan -rules` lists every rule.
package verify

import (
	"fmt"
	"sort"
	"sync"
)

// Kind is what a rule's finding means: see the package doc.
type Kind string

// The kinds.
const (
	// Refusal: the deploy would fail, or the platform would break.
	Refusal Kind = "refusal"
	// Guardrail: a published control, with severity and waivers.
	Guardrail Kind = "guardrail"
)

// Severity ranks a guardrail; a high one fails the check.
type Severity string

// The severities.
const (
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
)

// Rule is one registered rule.
type Rule struct {
	// ID names the rule in findings and waivers.
	ID string `json:"id"`
	// Kind is Refusal or Guardrail.
	Kind Kind `json:"kind"`
	// Front is where the rule runs: "fake AWS", "objects" or "guardrails".
	Front string `json:"front"`
	// Applies says what it checks: a resource type and input, or a kind
	// of object.
	Applies string `json:"applies,omitempty"`
	// Description says in one line what must hold (may be empty when the
	// source says it).
	Description string `json:"description,omitempty"`
	// Source is where the rule comes from: the API reference, the chart,
	// the app's code, or the published control.
	Source string `json:"source"`
	// Severity ranks a guardrail; empty for a refusal.
	Severity Severity `json:"severity,omitempty"`
}

// Finding is one resource breaking one rule.
type Finding struct {
	// Rule is the broken rule's ID; Severity its severity (guardrails).
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity,omitempty"`
	// URN, Type and Name identify the resource.
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Input is the path of the offending input, such as "name" or
	// "vpcConfig.subnetIds", when the rule knows it.
	Input string `json:"input,omitempty"`
	// Message says what is wrong and what is accepted, with the source.
	Message string `json:"message"`
	// Waived holds the waiver's reason when a guardrail is waived.
	Waived string `json:"waived,omitempty"`
}

// String renders the finding on one line.
func (f Finding) String() string {
	return fmt.Sprintf("%s %q: %s: %s", f.Type, f.Name, f.Input, f.Message)
}

var (
	mu       sync.Mutex
	registry = map[string]Rule{}
)

// Register adds rules to the registry. It panics on an ID registered twice
// or a rule without kind or source: both are programming errors.
func Register(rules ...Rule) {
	mu.Lock()
	defer mu.Unlock()
	for _, r := range rules {
		if _, dup := registry[r.ID]; dup {
			panic(fmt.Sprintf("verify: rule %q registered twice", r.ID))
		}
		if r.ID == "" || (r.Kind != Refusal && r.Kind != Guardrail) || r.Source == "" {
			panic(fmt.Sprintf("verify: rule %q needs an ID, a kind (refusal or guardrail) and a source", r.ID))
		}
		if (r.Kind == Guardrail) != (r.Severity != "") {
			panic(fmt.Sprintf("verify: rule %q: a guardrail has a severity, a refusal none", r.ID))
		}
		registry[r.ID] = r
	}
}

// Rules are every registered rule, by kind (refusals first), front and ID.
func Rules() []Rule {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind == Refusal
		}
		if a.Front != b.Front {
			return a.Front < b.Front
		}
		return a.ID < b.ID
	})
	return out
}

// Lookup returns the rule registered as id.
func Lookup(id string) (Rule, bool) {
	mu.Lock()
	defer mu.Unlock()
	r, ok := registry[id]
	return r, ok
}
