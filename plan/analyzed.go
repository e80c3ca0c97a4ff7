package plan

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Analyzed is a resource as Pulumi's engine hands it to a policy pack in a
// real `pulumi preview` or `pulumi up` (policyx.AnalyzerResource): its
// identity, its place in the graph and its inputs, with secrets and
// unknown values as the engine marks them.
type Analyzed struct {
	// URN, Type and Name identify the resource.
	URN, Type, Name string
	// Parent is the URN of its parent, if any.
	Parent string
	// Dependencies are the URNs it depends on.
	Dependencies []string
	// Protect is its protect option.
	Protect bool
	// Inputs are its properties.
	Inputs resource.PropertyMap
}

// FromAnalyzed is the plan of the resources a real deploy registered, for
// the same rules as an offline plan (region is the stack's aws:region): each Helm release is rendered from its
// vendored archive (found relative to dir, as the Kubernetes provider finds
// it) and values, with the same engine as Run. Secrets read "[secret]" and
// values not yet known read "[unknown]". The violations are the releases
// that did not render.
func FromAnalyzed(stack, region, dir string, rs []Analyzed) (*Plan, []mocks.Violation) {
	p := &Plan{Stack: stack, Outputs: map[string]any{}, region: region}
	for _, r := range rs {
		deps := r.Dependencies
		if deps == nil {
			deps = []string{}
		}
		p.Resources = append(p.Resources, Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: parentOf(r.Parent),
			Dependencies: deps, Protect: r.Protect, Inputs: plainMap(r.Inputs),
		})
	}
	if dir == "" {
		dir = "."
	}
	return p, p.renderReleases(dir)
}
