package insights

import (
	"github.com/dataplatform/dataplatform/plan"
)

// DeleteSteps models `pulumi destroy` on a plan: it returns, for each
// resource, the step in which it is deleted. A resource is deleted once
// everything that depends on it is gone, and a component once its children
// are; a dependency on a multi-language component (pulumi-eks's cluster)
// counts as one on each of its children. Step 0 goes first; resources of the
// same step are deleted in parallel.
func DeleteSteps(p *plan.Plan) map[string]int {
	byURN := map[string]plan.Resource{}
	children := map[string][]string{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r.URN)
		}
	}
	var descendants func(string) []string
	descendants = func(u string) []string {
		var out []string
		for _, c := range children[u] {
			out = append(out, c)
			out = append(out, descendants(c)...)
		}
		return out
	}
	// dependents[u] must be deleted before u.
	dependents := map[string][]string{}
	for _, r := range p.Resources {
		for _, d := range r.Dependencies {
			dependents[d] = append(dependents[d], r.URN)
			if byURN[d].Remote {
				for _, c := range descendants(d) {
					dependents[c] = append(dependents[c], r.URN)
				}
			}
		}
		if r.Parent != "" {
			dependents[r.Parent] = append(dependents[r.Parent], r.URN)
		}
	}
	step := map[string]int{}
	visiting := map[string]bool{}
	var visit func(string) int
	visit = func(u string) int {
		if s, ok := step[u]; ok {
			return s
		}
		if visiting[u] {
			return 0
		}
		visiting[u] = true
		s := 0
		for _, d := range dependents[u] {
			if v := visit(d) + 1; v > s {
				s = v
			}
		}
		visiting[u] = false
		step[u] = s
		return s
	}
	for _, r := range p.Resources {
		visit(r.URN)
	}
	return step
}
