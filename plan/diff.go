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
	// Replaced are the changed resources whose change the provider makes
	// by deleting and creating them again (replacingChanges): a new
	// physical object, so data, addresses and grants of the old one go.
	// A resource that moves to a URN no alias of it names is in Removed
	// and Added instead: Pulumi deletes and creates it too.
	Replaced []Change `json:"replaced"`
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

// Compare returns what changes from old to new. A resource of new matches
// the old one of the same URN or, as the engine does, of one of its
// aliases (matchOld); a match through an alias is an update of the same
// cloud resource, shown as a change of "urn".
//
// Against a plan reduced by Identities, only identities compare: its
// Removed and Replaced are what `pulumi up` would delete or replace.
func Compare(old, new *Plan) Diff {
	if old.IdentitiesOnly {
		new = new.Identities()
	}
	d := Diff{From: old.Stack, To: new.Stack, Added: []Ref{}, Removed: []Ref{}, Replaced: []Change{}, Changed: []Change{}, OutputsChanged: []string{}}
	oldBy := map[string]Resource{}
	for _, r := range old.Resources {
		oldBy[key(r.URN)] = r
	}
	match := matchOld(old, new)
	// asOld names a resource of new by the old key it matched, so that
	// parents, providers and dependencies compare across a move.
	asOld := func(urn string) string {
		if o, ok := match[key(urn)]; ok {
			return o
		}
		return key(urn)
	}
	matchedOld := map[string]bool{}
	for _, r := range new.Resources {
		k := key(r.URN)
		ok, found := match[k]
		if !found {
			d.Added = append(d.Added, Ref{Key: k, Type: r.Type, Name: r.Name})
			continue
		}
		matchedOld[ok] = true
		o := oldBy[ok]
		var fields []FieldChange
		if ok != k {
			fields = append(fields, FieldChange{Path: "urn", Old: o.URN, New: r.URN})
		}
		fields = append(fields, diffValues("inputs", o.Inputs, r.Inputs)...)
		fields = append(fields, diffValues("rendered", o.Rendered, r.Rendered)...)
		if key(o.Parent) != asOld(r.Parent) {
			fields = append(fields, FieldChange{Path: "parent", Old: o.Parent, New: r.Parent})
		}
		if key(o.Provider) != asOld(r.Provider) {
			fields = append(fields, FieldChange{Path: "provider", Old: o.Provider, New: r.Provider})
		}
		newDeps := make([]string, len(r.Dependencies))
		for i, u := range r.Dependencies {
			newDeps[i] = asOld(u)
		}
		sort.Strings(newDeps)
		if !reflect.DeepEqual(keys(o.Dependencies), newDeps) {
			fields = append(fields, FieldChange{Path: "dependencies", Old: o.Dependencies, New: r.Dependencies})
		}
		if o.Protect != r.Protect {
			fields = append(fields, FieldChange{Path: "protect", Old: o.Protect, New: r.Protect})
		}
		if len(fields) == 0 {
			continue
		}
		c := Change{Ref: Ref{Key: k, Type: r.Type, Name: r.Name}, Fields: fields}
		if replacing := replacingChanges(r.Type, fields); len(replacing) > 0 {
			d.Replaced = append(d.Replaced, Change{Ref: c.Ref, Fields: replacing})
		}
		d.Changed = append(d.Changed, c)
	}
	for k, r := range oldBy {
		if !matchedOld[k] {
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
	sort.Slice(d.Replaced, func(i, j int) bool { return d.Replaced[i].Key < d.Replaced[j].Key })
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
	replaced := map[string]bool{}
	for _, c := range d.Replaced {
		replaced[c.Key] = true
	}
	for _, c := range d.Changed {
		mark := "~"
		if replaced[c.Key] {
			mark = "+-"
		}
		fmt.Fprintf(&b, "%s %s  %s\n", mark, c.Type, c.Name)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "    ~ %s: %s → %s\n", f.Path, compact(f.Old), compact(f.New))
		}
	}
	for _, o := range d.OutputsChanged {
		fmt.Fprintf(&b, "~ output %s\n", o)
	}
	fmt.Fprintf(&b, "%d to add, %d to remove, %d to change (%d of them replaced), %d outputs changed\n",
		len(d.Added), len(d.Removed), len(d.Changed), len(d.Replaced), len(d.OutputsChanged))
	_, err := io.WriteString(w, b.String())
	return err
}

// replacingInputs are, per type (or type prefix ending in ":"), the inputs
// that name the physical object: the provider cannot change them in place,
// so a change deletes the object and creates another. Kubernetes objects
// are identified by name and namespace (the API has no rename); a Helm
// release by its name and namespace; the AWS ones are ForceNew in
// terraform-provider-aws, which pulumi-aws bridges (aws_iam_role,
// aws_iam_policy, aws_secretsmanager_secret, aws_kms_alias, aws_sqs_queue:
// name and name_prefix; aws_s3_bucket: bucket).
var replacingInputs = map[string][]string{
	"kubernetes:":                                       {"metadata.name", "metadata.namespace"},
	"kubernetes:helm.sh/v3:Release":                     {"name", "namespace"},
	"aws:iam/role:Role":                                 {"name", "namePrefix"},
	"aws:iam/policy:Policy":                             {"name", "namePrefix"},
	"aws:secretsmanager/secret:Secret":                  {"name", "namePrefix"},
	"aws:kms/alias:Alias":                               {"name", "namePrefix"},
	"aws:sqs/queue:Queue":                               {"name", "namePrefix"},
	"aws:s3/bucketV2:BucketV2":                          {"bucket", "bucketPrefix"},
	"aws:s3/bucket:Bucket":                              {"bucket", "bucketPrefix"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role", "policyArn"},
}

// replacingChanges returns the changes among fields that replace a
// resource of type typ (see replacingInputs).
func replacingChanges(typ string, fields []FieldChange) []FieldChange {
	inputs := replacingInputs[typ]
	if inputs == nil {
		for prefix, in := range replacingInputs {
			if strings.HasSuffix(prefix, ":") && strings.HasPrefix(typ, prefix) {
				inputs = in
			}
		}
	}
	var out []FieldChange
	for _, f := range fields {
		for _, in := range inputs {
			if f.Path == "inputs."+in {
				out = append(out, f)
			}
		}
	}
	return out
}

// Identities returns p reduced to what decides whether a later plan
// replaces its resources: each resource's URN, type, name, parent and the
// inputs that name its physical object (replacingInputs). Keep the
// identities of what is deployed (for example at each release) and Compare
// them with a new plan: its Removed and Replaced are what `pulumi up` would
// delete or replace.
func (p *Plan) Identities() *Plan {
	out := &Plan{Stack: p.Stack, Resources: make([]Resource, 0, len(p.Resources)), IdentitiesOnly: true}
	for _, r := range p.Resources {
		in := map[string]any{}
		for _, f := range replacingChanges(r.Type, diffValues("inputs", map[string]any{}, r.Inputs)) {
			setPath(in, strings.TrimPrefix(f.Path, "inputs."), f.New)
		}
		out.Resources = append(out.Resources, Resource{URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Aliases: r.Aliases, Inputs: in, Dependencies: []string{}})
	}
	return out
}

// setPath sets a dotted path of m to v, making the objects on the way.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
