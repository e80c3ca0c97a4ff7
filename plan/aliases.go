package plan

import (
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Alias is an older identity of a resource, as the program registered it
// (pulumi.Aliases): a whole URN, or the parts of the old URN that differ
// from the new one. An empty part is the resource's current one.
type Alias struct {
	// URN is the whole old URN; when set, the other parts are unused.
	URN string `json:"urn,omitempty"`
	// Name and Type are the old logical name and type.
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	// Parent is the old parent's URN; NoParent says it had none (it was at
	// the stack's root).
	Parent   string `json:"parent,omitempty"`
	NoParent bool   `json:"noParent,omitempty"`
}

func aliasesOf(in []mocks.Alias) []Alias {
	var out []Alias
	for _, a := range in {
		out = append(out, Alias{URN: a.URN, Name: a.Name, Type: a.Type, Parent: parentOf(a.Parent), NoParent: a.NoParent})
	}
	return out
}

// matchOld pairs each resource of new with the resource of old that the
// engine would update in its place: the one of the same URN, or else the
// first whose URN is one of its aliases. It follows the engine's
// generateAliases (pkg/resource/deploy/step_generator.go): an alias's empty
// parts are the resource's own, and a child of a resource that was matched
// through an alias also answers to its URN under the parent's old URN
// (with the parent's old name in place of a prefix of the parent's new
// one). The result maps new keys to old keys (URNs without their stack).
func matchOld(old, new *Plan) map[string]string {
	olds := map[string]bool{}
	for _, r := range old.Resources {
		olds[key(r.URN)] = true
	}
	// Parents register before their children: walk the new plan by depth.
	rs := append([]Resource(nil), new.Resources...)
	depth := func(r Resource) int { return strings.Count(resource.URN(r.URN).QualifiedType().String(), "$") }
	sort.SliceStable(rs, func(i, j int) bool { return depth(rs[i]) < depth(rs[j]) })

	stack, project := "s", "p" // keys leave the stack out; any stack gives the same keys
	full := func(k string) resource.URN { return resource.URN("urn:pulumi:" + stack + "::" + k) }
	matched := map[string]string{} // new key → old key
	aliased := map[string]string{} // new key → old key, when matched through an alias
	taken := map[string]bool{}
	for _, r := range rs {
		k := key(r.URN)
		project = strings.SplitN(k, "::", 2)[0]
		if olds[k] {
			matched[k], taken[k] = k, true
			continue
		}
		parent := resource.URN("")
		if r.Parent != "" {
			parent = full(key(r.Parent))
		}
		var candidates []resource.URN
		collapse := func(a Alias) resource.URN {
			if a.URN != "" {
				return full(key(a.URN))
			}
			n, t, p := a.Name, a.Type, parent
			if n == "" {
				n = r.Name
			}
			if t == "" {
				t = r.Type
			}
			if a.Parent != "" {
				p = full(key(a.Parent))
				if o, ok := aliased[key(a.Parent)]; ok {
					p = full(o)
				}
			}
			if a.NoParent || (p != "" && p.QualifiedType() == resource.RootStackType) {
				p = ""
			}
			return resource.CreateURN(n, t, p, project, stack)
		}
		for _, a := range r.Aliases {
			candidates = append(candidates, collapse(a))
		}
		if parent != "" {
			if po, ok := aliased[key(string(parent))]; ok {
				inherit := func(t, n string) resource.URN {
					if after, ok := strings.CutPrefix(n, parent.Name()); ok {
						n = full(po).Name() + after
					}
					return resource.CreateURN(n, t, full(po), project, stack)
				}
				candidates = append(candidates, inherit(r.Type, r.Name))
				for _, a := range r.Aliases {
					c := collapse(a)
					candidates = append(candidates, inherit(c.Type().String(), c.Name()))
				}
			}
		}
		for _, c := range candidates {
			ck := key(string(c))
			if olds[ck] && !taken[ck] {
				matched[k], aliased[k], taken[ck] = ck, ck, true
				break
			}
		}
	}
	return matched
}
