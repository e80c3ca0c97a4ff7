package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Diff is what changes between two plans: the offline counterpart of
// `pulumi preview --diff`. Resources are matched by URN with the stack name
// left out, so plans of two stacks (dev and prod) can be compared too.
type Diff struct {
	// From and To are the stacks of the old and new plan.
	From string `json:"from"`
	To   string `json:"to"`
	// Added, Removed and Changed are the resources that differ.
	Added   []Ref    `json:"added"`
	Removed []Ref    `json:"removed"`
	Changed []Change `json:"changed"`
	// OutputsChanged are the names of outputs that differ.
	OutputsChanged []string `json:"outputsChanged"`
}

// Ref names a resource in a diff.
type Ref struct {
	// Key is the URN without its stack.
	Key string `json:"key"`
	// Type and Name identify the resource.
	Type string `json:"type"`
	Name string `json:"name"`
}

// Change is a resource present in both plans with different inputs, parent,
// provider, dependencies or protection.
type Change struct {
	Ref
	// Fields lists the changed input paths (such as "inputs.cidrBlock" or
	// "inputs.tags.Environment") and other changed attributes ("protect").
	Fields []FieldChange `json:"fields"`
}

// FieldChange is one changed path with its old and new values.
type FieldChange struct {
	// Path is the changed input path; Old and New its values.
	Path string `json:"path"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
}

// ReadJSON reads a plan written by Plan.JSON (for example an earlier run's
// output saved in CI).
func ReadJSON(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: not a plan: %w", path, err)
	}
	return &p, nil
}

// key is a URN without its stack: "urn:pulumi:dev::proj::type::name" becomes
// "proj::type::name".
func key(urn string) string {
	parts := strings.SplitN(urn, "::", 2)
	if len(parts) == 2 {
		return parts[1]
	}
	return urn
}

// Compare returns what changes from old to new.
func Compare(old, new *Plan) Diff {
	d := Diff{From: old.Stack, To: new.Stack, Added: []Ref{}, Removed: []Ref{}, Changed: []Change{}, OutputsChanged: []string{}}
	oldBy := map[string]Resource{}
	for _, r := range old.Resources {
		oldBy[key(r.URN)] = r
	}
	newBy := map[string]Resource{}
	for _, r := range new.Resources {
		newBy[key(r.URN)] = r
	}
	for k, r := range newBy {
		o, ok := oldBy[k]
		if !ok {
			d.Added = append(d.Added, Ref{Key: k, Type: r.Type, Name: r.Name})
			continue
		}
		var fields []FieldChange
		fields = append(fields, diffValues("inputs", o.Inputs, r.Inputs)...)
		fields = append(fields, diffValues("rendered", o.Rendered, r.Rendered)...)
		if key(o.Parent) != key(r.Parent) {
			fields = append(fields, FieldChange{Path: "parent", Old: o.Parent, New: r.Parent})
		}
		if key(o.Provider) != key(r.Provider) {
			fields = append(fields, FieldChange{Path: "provider", Old: o.Provider, New: r.Provider})
		}
		if !reflect.DeepEqual(keys(o.Dependencies), keys(r.Dependencies)) {
			fields = append(fields, FieldChange{Path: "dependencies", Old: o.Dependencies, New: r.Dependencies})
		}
		if o.Protect != r.Protect {
			fields = append(fields, FieldChange{Path: "protect", Old: o.Protect, New: r.Protect})
		}
		if len(fields) > 0 {
			d.Changed = append(d.Changed, Change{Ref: Ref{Key: k, Type: r.Type, Name: r.Name}, Fields: fields})
		}
	}
	for k, r := range oldBy {
		if _, ok := newBy[k]; !ok {
			d.Removed = append(d.Removed, Ref{Key: k, Type: r.Type, Name: r.Name})
		}
	}
	for k, v := range new.Outputs {
		if !reflect.DeepEqual(normalize(v), normalize(old.Outputs[k])) {
			d.OutputsChanged = append(d.OutputsChanged, k)
		}
	}
	for k := range old.Outputs {
		if _, ok := new.Outputs[k]; !ok {
			d.OutputsChanged = append(d.OutputsChanged, k)
		}
	}
	sortRefs(d.Added)
	sortRefs(d.Removed)
	sort.Slice(d.Changed, func(i, j int) bool { return d.Changed[i].Key < d.Changed[j].Key })
	sort.Strings(d.OutputsChanged)
	return d
}

func keys(urns []string) []string {
	out := make([]string, len(urns))
	for i, u := range urns {
		out[i] = key(u)
	}
	sort.Strings(out)
	return out
}

func sortRefs(r []Ref) { sort.Slice(r, func(i, j int) bool { return r[i].Key < r[j].Key }) }

// diffValues lists the paths under prefix whose values differ. Objects are
// compared key by key, lists of the same length element by element, and
// other lists and scalars as a whole.
func diffValues(prefix string, old, new any) []FieldChange {
	old, new = normalize(old), normalize(new)
	om, oOK := old.(map[string]any)
	nm, nOK := new.(map[string]any)
	if oOK && nOK {
		ks := map[string]bool{}
		for k := range om {
			ks[k] = true
		}
		for k := range nm {
			ks[k] = true
		}
		sorted := make([]string, 0, len(ks))
		for k := range ks {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []FieldChange
		for _, k := range sorted {
			out = append(out, diffValues(prefix+"."+k, om[k], nm[k])...)
		}
		return out
	}
	ol, oOK := old.([]any)
	nl, nOK := new.([]any)
	if oOK && nOK && len(ol) == len(nl) {
		var out []FieldChange
		for i := range ol {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", prefix, i), ol[i], nl[i])...)
		}
		return out
	}
	if reflect.DeepEqual(old, new) {
		return nil
	}
	return []FieldChange{{Path: prefix, Old: old, New: new}}
}

// Empty reports whether nothing changes.
func (d Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.OutputsChanged) == 0
}

// WriteText prints the diff the way a reviewer reads a preview: + added,
// - removed, ~ changed with each changed path and its old and new value.
func (d Diff) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan diff %s → %s\n", d.From, d.To)
	for _, r := range d.Added {
		fmt.Fprintf(&b, "+ %s  %s\n", r.Type, r.Name)
	}
	for _, r := range d.Removed {
		fmt.Fprintf(&b, "- %s  %s\n", r.Type, r.Name)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(&b, "~ %s  %s\n", c.Type, c.Name)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "    ~ %s: %s → %s\n", f.Path, compact(f.Old), compact(f.New))
		}
	}
	for _, o := range d.OutputsChanged {
		fmt.Fprintf(&b, "~ output %s\n", o)
	}
	fmt.Fprintf(&b, "%d to add, %d to remove, %d to change, %d outputs changed\n",
		len(d.Added), len(d.Removed), len(d.Changed), len(d.OutputsChanged))
	_, err := io.WriteString(w, b.String())
	return err
}
