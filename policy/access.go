package policy

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

// accessRules keep secret values and data objects to the roles and pods
// that own them.
var accessRules = []Rule{
	{ID: "IAM-005", Severity: High, Control: "AWS FSBP IAM.21; Secrets Manager best practices: least privilege",
		Description: "Secret values and data objects are read only from named resources, never from every secret or bucket",
		check: statements(func(s map[string]any) string {
			reads := readActions(list(s["Action"]))
			if len(reads) == 0 || scopingCondition(s["Condition"]) != "" {
				return ""
			}
			for _, r := range list(s["Resource"]) {
				if everyResource(r) {
					return strings.Join(reads, ", ") + " on " + r
				}
			}
			return ""
		})},
	{ID: "IAM-006", Severity: High, Control: "AWS IAM best practices: least privilege; separate workloads by role",
		Description: "A role of one app's pods reads no secret or bucket of another app",
		check:       checkCrossAppReads},
}

// readOnSecrets are the actions that return a secret's value or an
// object's content (or allow every action of such a service).
var readOnSecrets = regexp.MustCompile(`^(secretsmanager:(GetSecretValue|BatchGetSecretValue|\*)|s3:(GetObject.*|\*)|ssm:(GetParameter.*|\*)|\*)$`)

func readActions(actions []string) []string {
	var out []string
	for _, a := range actions {
		if readOnSecrets.MatchString(a) {
			out = append(out, a)
		}
	}
	return out
}

// everyResource reports an ARN pattern that covers every secret, every
// parameter or every bucket (or everything) of an account.
var everyResourcePattern = regexp.MustCompile(`^(\*|arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:\*|arn:[^:]+:ssm:[^:]*:[^:]*:parameter/?\*|arn:[^:]+:s3:::\*(/\*)?)$`)

func everyResource(arn string) bool { return everyResourcePattern.MatchString(arn) }

// scopingKey matches condition keys that narrow which resources a
// statement reaches: tags of the resource or of the request, the resource's
// identifier or account, the service acting for the caller, the service a
// role is passed to or a service-linked role is made for, and S3 prefixes.
// Keys such as aws:RequestedRegion, aws:SecureTransport or aws:SourceIp say
// how a request is made, not what it reaches, and do not scope.
var scopingKey = regexp.MustCompile(`(?i)(ResourceTag/|RequestTag/|:ResourceIdentifier$|^aws:ResourceAccount$|^aws:ResourceOrgID$|^aws:SourceArn$|:ViaService$|^iam:PassedToService$|^iam:AWSServiceName$|^ec2:CreateAction$|^s3:prefix$|^eks:clusterName$)`)

// scopingCondition returns the first scoping key of a statement's
// condition, or "".
func scopingCondition(cond any) string {
	c, _ := cond.(map[string]any)
	var keys []string
	for _, v := range c {
		m, _ := v.(map[string]any)
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if scopingKey.MatchString(k) {
			return k
		}
	}
	return ""
}

// appNamespaces are the namespaces of the app charts' releases.
func appNamespaces(g *graph) []string {
	var out []string
	for _, r := range g.of(plan.ReleaseType) {
		chart := str(r.Inputs, "chart")
		for _, app := range []string{"airbyte", "airflow"} {
			if strings.Contains(chart, app+"-") {
				out = append(out, str(r.Inputs, "namespace"))
			}
		}
	}
	return out
}

// appWord is an app namespace and the pattern of it as a whole word in a
// resource name ("dataplatform-prod/airflow/...", "dataplatform-prod-airbyte-...",
// "airbyte_workspace_...").
type appWord struct {
	app  string
	word *regexp.Regexp
}

func appWords(apps []string) []appWord {
	var out []appWord
	for _, a := range apps {
		out = append(out, appWord{a, regexp.MustCompile(`(^|[-/_:.])` + regexp.QuoteMeta(a) + `($|[-/_:.*])`)})
	}
	return out
}

// owner returns the app a resource name belongs to, or "".
func owner(name string, words []appWord) string {
	for _, w := range words {
		if w.word.MatchString(name) {
			return w.app
		}
	}
	return ""
}

// resourceName is the part of an ARN that names the resource.
func resourceName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	return parts[5]
}

func checkCrossAppReads(g *graph) []Violation {
	apps := appNamespaces(g)
	words := appWords(apps)
	var out []Violation
	for _, role := range g.of(tRole) {
		ns := trustedNamespaces(role)
		if len(ns) != 1 || !slices.Contains(apps, ns[0]) {
			continue
		}
		for _, pol := range g.policiesOf(role) {
			doc, _ := pol.Inputs["policy"].(map[string]any)
			for _, s := range objects(doc["Statement"]) {
				if str(s, "Effect") != "Allow" {
					continue
				}
				for _, r := range list(s["Resource"]) {
					if !strings.Contains(r, ":secretsmanager:") && !strings.Contains(r, ":s3:::") && !strings.Contains(r, ":ssm:") {
						continue
					}
					if o := owner(resourceName(r), words); o != "" && o != ns[0] {
						out = append(out, violation(pol, "role %s of namespace %s reaches %s, which belongs to %s", role.Name, ns[0], r, o))
					}
				}
			}
		}
	}
	return out
}

// trustedNamespaces are the namespaces of the service accounts a role's
// web-identity trust admits.
func trustedNamespaces(role plan.Resource) []string {
	var out []string
	for _, sub := range trustedSubjects(role) {
		parts := strings.Split(sub, ":")
		if len(parts) == 4 && !slices.Contains(out, parts[2]) {
			out = append(out, parts[2])
		}
	}
	sort.Strings(out)
	return out
}

// policiesOf returns the managed policies attached to role and its inline
// policies, found through the attachments' dependencies.
func (g *graph) policiesOf(role plan.Resource) []plan.Resource {
	var out []plan.Resource
	for _, a := range g.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if !slices.Contains(a.Dependencies, role.URN) {
			continue
		}
		for _, p := range g.of(tPolicy) {
			if slices.Contains(a.Dependencies, p.URN) {
				out = append(out, p)
			}
		}
	}
	for _, p := range g.of(tRolePolicy) {
		if slices.Contains(p.Dependencies, role.URN) {
			out = append(out, p)
		}
	}
	return out
}
