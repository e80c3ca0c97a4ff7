// Package iampolicy builds IAM policy documents as typed Go values. ARNs and
// other values that come from resources are pulumi.StringInput, and the
// document renders to JSON once they are known, so no policy is ever put
// together by concatenating strings.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Version is the policy language version every document uses.
const Version = "2012-10-17"

// Effect is a statement's effect.
type Effect string

// The two effects a statement can have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is an IAM policy document (identity, trust or resource policy).
type Document struct {
	Statements []Statement
}

// Statement is one statement of a Document. Effect defaults to Allow.
type Statement struct {
	// Sid names the statement; optional but recommended, it shows in the plan.
	Sid        string
	Effect     Effect
	Principals []Principal
	Actions    []string
	NotActions []string
	// Resources are ARNs or ARN patterns; leave empty only in trust policies.
	Resources  []pulumi.StringInput
	Conditions []Condition
}

// Principal is a statement's principal, such as {Type: "Service",
// Identifiers: ["eks.amazonaws.com"]}. Type is one of "AWS", "Service",
// "Federated" or "*".
type Principal struct {
	Type        string
	Identifiers []pulumi.StringInput
}

// Condition is one condition, such as {Test: "StringEquals", Variable:
// "aws:SecureTransport", Values: ["false"]}. Variable is an input because some
// condition keys (an OIDC issuer's) come from a resource.
type Condition struct {
	Test     string
	Variable pulumi.StringInput
	Values   []pulumi.StringInput
}

// Strings turns plain strings into inputs, for Resources, Identifiers and Values.
func Strings(values ...string) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(values))
	for i, v := range values {
		out[i] = pulumi.String(v)
	}
	return out
}

// Inputs collects string inputs into a slice, for Resources, Identifiers and Values.
func Inputs(values ...pulumi.StringInput) []pulumi.StringInput { return values }

// JSON renders the document once every input is known. Keys are emitted in a
// fixed order, so the same document always renders to the same bytes.
func (d Document) JSON() pulumi.StringOutput {
	var inputs []interface{}
	add := func(in pulumi.StringInput) int {
		inputs = append(inputs, in)
		return len(inputs) - 1
	}
	type condRef struct {
		test   string
		varIdx int
		vals   []int
	}
	type stmtRef struct {
		s     Statement
		princ [][]int
		res   []int
		conds []condRef
	}
	refs := make([]stmtRef, len(d.Statements))
	for i, s := range d.Statements {
		r := stmtRef{s: s}
		for _, p := range s.Principals {
			var ids []int
			for _, id := range p.Identifiers {
				ids = append(ids, add(id))
			}
			r.princ = append(r.princ, ids)
		}
		for _, res := range s.Resources {
			r.res = append(r.res, add(res))
		}
		for _, c := range s.Conditions {
			cr := condRef{test: c.Test, varIdx: add(c.Variable)}
			for _, v := range c.Values {
				cr.vals = append(cr.vals, add(v))
			}
			r.conds = append(r.conds, cr)
		}
		refs[i] = r
	}
	return pulumi.All(inputs...).ApplyT(func(vals []interface{}) (string, error) {
		str := func(i int) string { return fmt.Sprint(vals[i]) }
		doc := rendered{Version: Version}
		for _, r := range refs {
			out := renderedStatement{Sid: r.s.Sid, Effect: string(r.s.Effect), Action: r.s.Actions, NotAction: r.s.NotActions}
			if out.Effect == "" {
				out.Effect = string(Allow)
			}
			if len(r.princ) > 0 {
				out.Principal = map[string][]string{}
				for pi, p := range r.s.Principals {
					for _, id := range r.princ[pi] {
						out.Principal[p.Type] = append(out.Principal[p.Type], str(id))
					}
				}
			}
			for _, ri := range r.res {
				out.Resource = append(out.Resource, str(ri))
			}
			if len(r.conds) > 0 {
				out.Condition = map[string]map[string][]string{}
				for _, c := range r.conds {
					if out.Condition[c.test] == nil {
						out.Condition[c.test] = map[string][]string{}
					}
					v := str(c.varIdx)
					for _, vi := range c.vals {
						out.Condition[c.test][v] = append(out.Condition[c.test][v], str(vi))
					}
				}
			}
			doc.Statement = append(doc.Statement, out)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}).(pulumi.StringOutput)
}

type rendered struct {
	Version   string              `json:"Version"`
	Statement []renderedStatement `json:"Statement"`
}

type renderedStatement struct {
	Sid       string                         `json:"Sid,omitempty"`
	Effect    string                         `json:"Effect"`
	Principal map[string][]string            `json:"Principal,omitempty"`
	Action    []string                       `json:"Action,omitempty"`
	NotAction []string                       `json:"NotAction,omitempty"`
	Resource  []string                       `json:"Resource,omitempty"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// AssumeRoleForService returns the trust policy that lets an AWS service
// (such as "ec2.amazonaws.com") assume a role.
func AssumeRoleForService(services ...string) Document {
	return Document{Statements: []Statement{{
		Sid:        "AllowServiceAssumeRole",
		Actions:    []string{"sts:AssumeRole"},
		Principals: []Principal{{Type: "Service", Identifiers: Strings(services...)}},
	}}}
}

// DenyInsecureTransport is the statement that refuses any request not made
// over TLS, for bucket and queue policies. resources are the ARNs it covers.
func DenyInsecureTransport(action string, resources ...pulumi.StringInput) Statement {
	return Statement{
		Sid:        "DenyInsecureTransport",
		Effect:     Deny,
		Principals: []Principal{{Type: "AWS", Identifiers: Strings("*")}},
		Actions:    []string{action},
		Resources:  resources,
		Conditions: []Condition{{Test: "Bool", Variable: pulumi.String("aws:SecureTransport"), Values: Strings("false")}},
	}
}

// Parse reads a policy document published as JSON (such as an upstream
// project's documented IAM policy) into a typed Document, so it is rendered
// and checked like every other policy.
func Parse(data []byte) (Document, error) {
	var raw struct {
		Statement []struct {
			Sid       string                                `json:"Sid"`
			Effect    string                                `json:"Effect"`
			Action    stringList                            `json:"Action"`
			NotAction stringList                            `json:"NotAction"`
			Resource  stringList                            `json:"Resource"`
			Condition map[string]map[string]json.RawMessage `json:"Condition"`
		} `json:"Statement"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Document{}, fmt.Errorf("not a policy document: %w", err)
	}
	var d Document
	for i, s := range raw.Statement {
		st := Statement{Sid: s.Sid, Effect: Effect(s.Effect), Actions: s.Action, NotActions: s.NotAction, Resources: Strings(s.Resource...)}
		tests := make([]string, 0, len(s.Condition))
		for t := range s.Condition {
			tests = append(tests, t)
		}
		sort.Strings(tests)
		for _, test := range tests {
			vars := make([]string, 0, len(s.Condition[test]))
			for v := range s.Condition[test] {
				vars = append(vars, v)
			}
			sort.Strings(vars)
			for _, v := range vars {
				var values stringList
				if err := json.Unmarshal(s.Condition[test][v], &values); err != nil {
					return Document{}, fmt.Errorf("statement %d, condition %s %s: %w", i, test, v, err)
				}
				st.Conditions = append(st.Conditions, Condition{Test: test, Variable: pulumi.String(v), Values: Strings(values...)})
			}
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

// stringList decodes a JSON string or list of strings (or booleans, as some
// conditions write them) into a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	switch v := one.(type) {
	case []any:
		for _, e := range v {
			*l = append(*l, fmt.Sprint(e))
		}
	case nil:
	default:
		*l = stringList{fmt.Sprint(v)}
	}
	return nil
}
