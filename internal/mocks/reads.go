package mocks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Read is a request an invoke makes of AWS: the action, the resource and
// the request's context keys, and the invoke that makes it.
type Read struct {
	Invoke, Action, Resource string
	Context                  map[string]string
}

// ReadsOf are the requests AWS authorizes for an invoke of the program
// (Service Authorization Reference): GetSecretValue, and the KMS Decrypt
// that Secrets Manager makes on the caller's behalf (kms:ViaService);
// DescribeSubnets; SSM GetParameter. GetCallerIdentity needs no permission.
func ReadsOf(token string, args resource.PropertyMap, region string) []Read {
	str := func(k string) string {
		if v, ok := args[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch token {
	case "aws:secretsmanager/getSecretVersion:getSecretVersion":
		return []Read{
			{Invoke: token, Action: "secretsmanager:GetSecretValue", Resource: str("secretId"), Context: map[string]string{"secretsmanager:SecretId": str("secretId")}},
			{Invoke: token, Action: "kms:Decrypt", Resource: "*", Context: map[string]string{"kms:ViaService": "secretsmanager." + region + ".amazonaws.com"}},
		}
	case "aws:ec2/getSubnet:getSubnet":
		return []Read{{Invoke: token, Action: "ec2:DescribeSubnets", Resource: "*"}}
	case "aws:ssm/getParameter:getParameter":
		return []Read{{Invoke: token, Action: "ssm:GetParameter", Resource: str("name")}}
	}
	return nil
}

// record keeps reads, once each.
func (m *Mocks) record(reads ...Read) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range reads {
		dup := false
		for _, seen := range m.reads {
			dup = dup || seen.Action == r.Action && seen.Resource == r.Resource
		}
		if !dup {
			m.reads = append(m.reads, r)
		}
	}
}

// rulePreviewReads is the rule that CI's preview role may make the reads
// every preview makes.
const rulePreviewReads = "across/preview-role-reads"

// readOnlyAccess models the AWS managed policy ReadOnlyAccess: the Describe,
// Get and List actions, less those that read data. Of Secrets Manager it
// grants Describe*, List* and GetResourcePolicy, not GetSecretValue, and
// of KMS no Decrypt (AWS Managed Policy Reference, "ReadOnlyAccess").
func readOnlyAccess(action string) bool {
	_, verb, _ := strings.Cut(action, ":")
	if action == "secretsmanager:GetSecretValue" || action == "kms:Decrypt" {
		return false
	}
	return strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List")
}

// checkPreviewReads evaluates, for each role that GitHub's OIDC provider
// assumes (CI's preview), its inline policies and managed ReadOnlyAccess
// for each read of the program: a preview it cannot make fails at the
// invoke, before it shows any diff.
func checkPreviewReads(records []Record, env Env) []Violation {
	var out []Violation
	for i := range records {
		role := &records[i]
		if role.Type != "aws:iam/role:Role" || !strings.Contains(stringAt(role.Inputs, "assumeRolePolicy"), "token.actions.githubusercontent.com") {
			continue
		}
		name := stringAt(role.Outputs, "name")
		var docs []string
		readOnly := false
		for j := range records {
			r := &records[j]
			switch {
			case r.Type == "aws:iam/rolePolicy:RolePolicy" && stringAt(r.Inputs, "role") == name:
				docs = append(docs, stringAt(r.Inputs, "policy"))
			case r.Type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && stringAt(r.Inputs, "role") == name:
				readOnly = readOnly || strings.HasSuffix(stringAt(r.Inputs, "policyArn"), ":policy/ReadOnlyAccess")
			}
		}
		var denied []string
		for _, rd := range env.Reads {
			req := accessRequest{identity: true, action: rd.Action, resource: rd.Resource, context: rd.Context}
			ok, why := identityAllows(docs, req)
			if !ok && why == "no statement allows it" && readOnly && readOnlyAccess(rd.Action) {
				ok = true
			}
			if !ok {
				denied = append(denied, fmt.Sprintf("%s on %s (%s): %s", rd.Action, rd.Resource, rd.Invoke, why))
			}
		}
		sort.Strings(denied)
		for _, d := range denied {
			out = append(out, Violation{URN: role.URN, Type: role.Type, Name: role.Name, Input: "assumeRolePolicy", Rule: rulePreviewReads,
				Message: fmt.Sprintf("role %s, which runs CI's preview, may not call %s, and the program calls it at every preview (%s)", name, d, sourceOf(rulePreviewReads))})
		}
	}
	return out
}

// identityAllows evaluates an identity's policies (statements without a
// principal) for req: an explicit deny in any of them wins, then an allow.
func identityAllows(docs []string, req accessRequest) (bool, string) {
	allowed, why := false, "no statement allows it"
	for _, doc := range docs {
		ok, reason := allows(doc, req)
		switch {
		case strings.Contains(reason, "denies it"):
			return false, reason
		case ok:
			allowed, why = true, ""
		}
	}
	return allowed, why
}
