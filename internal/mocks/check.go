package mocks

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dataplatform/dataplatform/verify"
)

// Violation is one thing AWS (or the provider before it) would refuse about
// a planned resource: which resource, which input, and the rule (a refusal
// of package verify, whose Finding it is).
type Violation = verify.Finding

// Env is what the fake AWS account is: the region, account and zones.
type Env struct {
	// Region and AccountID are the caller's.
	Region, AccountID string
	// Zones are the region's availability zones.
	Zones []string
	// ExternalAccounts may appear in ARNs besides AccountID, because the
	// stack's config says so.
	ExternalAccounts map[string]bool
	// Caller is the IAM principal (role or user ARN) that runs the deploy.
	Caller string
	// Reads are the requests the program's invokes make: a preview makes
	// them too, as whatever role runs it.
	Reads []Read
}

// Env returns the environment the mocks answer for.
func (m *Mocks) Env() Env {
	zones := []string{}
	for _, s := range []string{"a", "b", "c", "d", "e", "f"}[:m.zoneCount()] {
		zones = append(zones, m.Region+s)
	}
	m.mu.Lock()
	reads := append([]Read(nil), m.reads...)
	m.mu.Unlock()
	return Env{Region: m.Region, AccountID: m.Account, Zones: zones, ExternalAccounts: m.ExternalAccounts, Caller: "arn:aws:iam::" + m.Account + ":role/" + m.CallerRole, Reads: reads}
}

// Violations checks every registered resource against the rules of the
// fake AWS (see Rules) and returns what AWS would refuse, sorted.
func (m *Mocks) Violations() []Violation {
	return Check(m.Records(), m.Env())
}

// Check returns what AWS would refuse about records in env: physical names,
// ARNs, tags, policy sizes, required and enumerated inputs, and the rules
// that span resources (subnets in their VPC, per-role policy limits).
func Check(records []Record, env Env) []Violation {
	var out []Violation
	for i := range records {
		r := &records[i]
		if !r.Custom {
			continue
		}
		add := func(input, rule, format string, args ...any) {
			out = append(out, Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: input, Rule: rule, Message: fmt.Sprintf(format, args...)})
		}
		checkNames(r, add)
		checkInputs(r, env, add)
		checkARNs(r, env, add)
		if strings.HasPrefix(r.Type, "aws:") {
			checkTags(r, add)
			checkDocuments(r, add)
		}
	}
	out = append(out, checkAcross(records, env)...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].URN != out[j].URN {
			return out[i].URN < out[j].URN
		}
		if out[i].Input != out[j].Input {
			return out[i].Input < out[j].Input
		}
		return out[i].Message < out[j].Message
	})
	return out
}

type addFunc func(input, rule, format string, args ...any)

// checkNames checks the physical name (as set, or as generated) and the
// other inputs AWS checks as names.
func checkNames(r *Record, add addFunc) {
	if rule, ok := nameRules[r.Type]; ok {
		name := stringAt(r.Outputs, rule.prop)
		how := ""
		if r.NameGenerated != "" {
			how = " (" + r.NameGenerated + ")"
		}
		id := "name/" + r.Type
		switch {
		case name == "":
			add(rule.prop, id, "required: AWS needs a name and nothing generates one (%s)", rule.source)
		case rule.auto != nil && strings.HasPrefix(r.NameGenerated, "auto-named") && len(name) > rule.auto.maxLen:
			add(rule.prop, id, "%q%s is %d characters; Pulumi auto-names this type up to %d and fails beyond (%s)", name, how, len(name), rule.auto.maxLen, rule.source)
		default:
			if msg := checkName(rule, name); msg != "" {
				add(rule.prop, id, "%q%s %s (%s)", name, how, msg, rule.source)
			}
		}
	}
	for prop, rule := range secondaryNames[r.Type] {
		v, ok := r.Inputs[resource.PropertyKey(prop)]
		if !ok || !unwrap(v).IsString() {
			continue
		}
		if msg := checkName(rule, unwrap(v).StringValue()); msg != "" {
			add(prop, "name/"+r.Type+"/"+prop, "%q %s (%s)", unwrap(v).StringValue(), msg, rule.source)
		}
	}
}

// unwrap strips the secret and output wrappers of a value.
func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

func stringAt(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	v = unwrap(v)
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// found is a value at a concrete path.
type found struct {
	path string
	v    resource.PropertyValue
}

// lookup returns the values at path in m: segments are separated by dots,
// and a segment ending in "[]" stands for every element of a list.
func lookup(m resource.PropertyMap, path string) []found {
	cur := []found{{"", resource.NewProperty(m)}}
	for _, seg := range strings.Split(path, ".") {
		each := strings.HasSuffix(seg, "[]")
		key := strings.TrimSuffix(seg, "[]")
		var next []found
		for _, f := range cur {
			obj := unwrap(f.v)
			if !obj.IsObject() {
				continue
			}
			v, ok := obj.ObjectValue()[resource.PropertyKey(key)]
			if !ok || unwrap(v).IsNull() {
				continue
			}
			p := key
			if f.path != "" {
				p = f.path + "." + key
			}
			if !each {
				next = append(next, found{p, v})
				continue
			}
			if u := unwrap(v); u.IsArray() {
				for i, e := range u.ArrayValue() {
					next = append(next, found{p + "[" + strconv.Itoa(i) + "]", e})
				}
			}
		}
		cur = next
	}
	return cur
}

// walkStrings calls fn with every string in v and its path; strings that
// hold a JSON document (a policy) are walked too.
func walkStrings(path string, v resource.PropertyValue, fn func(path, s string)) {
	v = unwrap(v)
	switch {
	case v.IsString():
		s := v.StringValue()
		fn(path, s)
		if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			var doc any
			if json.Unmarshal([]byte(t), &doc) == nil {
				walkJSON(path, doc, fn)
			}
		}
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			walkStrings(fmt.Sprintf("%s[%d]", path, i), e, fn)
		}
	case v.IsObject():
		for k, e := range v.ObjectValue() {
			walkStrings(join(path, string(k)), e, fn)
		}
	}
}

func walkJSON(path string, v any, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case []any:
		for i, e := range x {
			walkJSON(fmt.Sprintf("%s[%d]", path, i), e, fn)
		}
	case map[string]any:
		for k, e := range x {
			walkJSON(join(path, k), e, fn)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
