// Package pack is the platform's guardrails (package policy) as a Pulumi
// policy pack, so that a real `pulumi preview --policy-pack policypack`
// or `pulumi up --policy-pack policypack` runs the same rules as the
// offline plan's `-policy`, over the resources the engine registers.
//
// Each rule is a stack policy named by its ID: mandatory when its severity
// is high, advisory otherwise, and advisory when the stack's config waives
// it (dataplatform:policy.waivers, read from the stack's config as the
// engine hands it to the pack). Rules that read a Helm release's objects
// see them rendered from the release's vendored archive and values with
// the offline plan's engine (plan.FromAnalyzed).
//
// It is built on policyx, which Pulumi marks experimental: see the README,
// "Guardrails at the real deploy", for what that leaves out.
package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/policy"
)

// Name is the pack's name, as `pulumi policy` shows it.
const Name = "dataplatform-guardrails"

// Version is the pack's version.
var Version = semver.MustParse("0.1.0")

// RenderPolicy is the advisory policy that reports a Helm release the pack
// could not render, whose objects the rules then do not see.
const RenderPolicy = "helm-render"

// New is the policy pack for policyx.Main: the pack's root directory is
// the project's policypack/, so the charts are found in its parent.
func New(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	waivers, err := waiversOf(config.Get(ctx, "dataplatform:policy"))
	if err != nil {
		return nil, err
	}
	return NewPack(filepath.Dir(ctx.RootDirectory()), ctx.Stack(), config.Get(ctx, "aws:region"), waivers)
}

// waiversOf reads the waivers of the stack's dataplatform:policy section.
func waiversOf(section string) ([]policy.Waiver, error) {
	if section == "" {
		return nil, nil
	}
	var p struct {
		Waivers []policy.Waiver `json:"waivers"`
	}
	if err := json.Unmarshal([]byte(section), &p); err != nil {
		return nil, fmt.Errorf("dataplatform:policy: %v", err)
	}
	return p.Waivers, nil
}

// NewPack is the pack for the project in dir, a stack's region (aws:region,
// which the database TLS rule checks the CA bundle against) and its waivers.
func NewPack(dir, stack, region string, waivers []policy.Waiver) (policyx.PolicyPack, error) {
	reasons := map[string]string{}
	for _, w := range waivers {
		reasons[w.Rule] = w.Reason
	}
	e := &evaluator{dir: dir, stack: stack, region: region, waivers: waivers}
	var policies []policyx.Policy
	for _, r := range policy.Rules() {
		r := r
		level := policyx.EnforcementLevelAdvisory
		if r.Severity == policy.High && reasons[r.ID] == "" {
			level = policyx.EnforcementLevelMandatory
		}
		desc := fmt.Sprintf("%s (%s; severity %s)", r.Description, r.Control, r.Severity)
		if why := reasons[r.ID]; why != "" {
			desc += "; waived for this stack: " + why
		}
		policies = append(policies, policyx.NewStackValidationPolicy(r.ID, policyx.StackValidationPolicyArgs{
			Description: desc, EnforcementLevel: level,
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				rep, _, err := e.evaluate(args.Resources)
				if err != nil {
					return err
				}
				for _, v := range rep.Violations {
					if v.Rule == r.ID {
						args.Manager.ReportViolation(fmt.Sprintf("%s %q: %s", v.Type, v.Name, v.Message), v.URN)
					}
				}
				return nil
			},
		}))
	}
	policies = append(policies, policyx.NewStackValidationPolicy(RenderPolicy, policyx.StackValidationPolicyArgs{
		Description:      "every Helm release renders from its vendored archive, so that the rules see its objects",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			_, problems, err := e.evaluate(args.Resources)
			for _, v := range problems {
				args.Manager.ReportViolation(v.String(), v.URN)
			}
			return err
		},
	}))
	return policyx.NewPolicyPack(Name, Version, policyx.EnforcementLevelAdvisory, policies)
}

// evaluator evaluates every rule once per AnalyzeStack call, whose
// policies all receive the same resources.
type evaluator struct {
	dir, stack, region string
	waivers            []policy.Waiver

	mu       sync.Mutex
	key      string
	report   policy.Report
	problems []mocks.Violation
}

func (e *evaluator) evaluate(rs []policyx.AnalyzerResource) (policy.Report, []mocks.Violation, error) {
	urns := make([]string, len(rs))
	for i, r := range rs {
		urns[i] = r.URN
	}
	key := fmt.Sprintf("%p/%s", rs, strings.Join(urns, "\n"))
	e.mu.Lock()
	defer e.mu.Unlock()
	if key == e.key {
		return e.report, e.problems, nil
	}
	analyzed := make([]plan.Analyzed, len(rs))
	for i, r := range rs {
		analyzed[i] = plan.Analyzed{URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Dependencies: r.Dependencies,
			Protect: r.Options.Protect, Inputs: resource.ToResourcePropertyMap(r.Properties)}
	}
	p, problems := plan.FromAnalyzed(e.stack, e.region, e.dir, analyzed)
	rep, err := policy.Evaluate(p, e.waivers)
	if err != nil {
		return policy.Report{}, nil, err
	}
	e.key, e.report, e.problems = key, rep, problems
	return rep, problems, nil
}
