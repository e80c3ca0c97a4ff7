package mocks

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The fake AWS's evaluation of resource and trust policies, for the
// requests AWS services make themselves when a resource is created: a
// service principal, an action, a resource and the request's context keys
// (IAM user guide, "Policy evaluation logic": an explicit deny wins, then an
// allow; a condition whose key the request lacks does not match, unless its
// operator ends in IfExists). Only what the program's policies use is
// modelled: Principal "*" or by type, Action and Resource with wildcards,
// NotAction, and the String, Arn and Bool condition operators.

// accessRequest is one request a service makes.
type accessRequest struct {
	service, action, resource string
	context                   map[string]string
	// identity: the request is judged by the caller's own policies, whose
	// statements name no principal.
	identity bool
}

// policyStatement is a statement as JSON has it.
type policyStatement struct {
	Sid       string                                `json:"Sid"`
	Effect    string                                `json:"Effect"`
	Principal json.RawMessage                       `json:"Principal"`
	Action    jsonStrings                           `json:"Action"`
	NotAction jsonStrings                           `json:"NotAction"`
	Resource  jsonStrings                           `json:"Resource"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

// jsonStrings is a JSON string or list of strings (or booleans).
type jsonStrings []string

func (l *jsonStrings) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			*l = append(*l, fmt.Sprint(e))
		}
	case nil:
	default:
		*l = jsonStrings{fmt.Sprint(x)}
	}
	return nil
}

// allows evaluates doc for req. It returns whether the request is allowed,
// and why not: the statements that deny it, or that no statement allows it.
func allows(doc string, req accessRequest) (bool, string) {
	var parsed struct {
		Statement []policyStatement `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		var one struct {
			Statement policyStatement `json:"Statement"`
		}
		if json.Unmarshal([]byte(doc), &one) != nil {
			return false, "the policy is not a JSON policy document"
		}
		parsed.Statement = []policyStatement{one.Statement}
	}
	allowed := false
	for i, s := range parsed.Statement {
		if !s.applies(req) {
			continue
		}
		if strings.EqualFold(s.Effect, "Deny") {
			return false, fmt.Sprintf("statement %s denies it", s.name(i))
		}
		allowed = true
	}
	if !allowed {
		return false, "no statement allows it"
	}
	return true, ""
}

func (s policyStatement) name(i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("%d", i)
}

// applies reports whether the statement's principal, action, resource and
// conditions all match req.
func (s policyStatement) applies(req accessRequest) bool {
	if !req.identity && !principalMatches(s.Principal, req.service) {
		return false
	}
	switch {
	case len(s.Action) > 0 && !anyGlob(s.Action, req.action, true):
		return false
	case len(s.NotAction) > 0 && anyGlob(s.NotAction, req.action, true):
		return false
	case len(s.Action) == 0 && len(s.NotAction) == 0:
		return false
	}
	if len(s.Resource) > 0 && req.resource != "" && !anyGlob(s.Resource, req.resource, false) {
		return false
	}
	ops := make([]string, 0, len(s.Condition))
	for op := range s.Condition {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		for key, raw := range s.Condition[op] {
			var values jsonStrings
			if json.Unmarshal(raw, &values) != nil || !conditionMatches(op, key, values, req.context) {
				return false
			}
		}
	}
	return true
}

// principalMatches reports whether a statement's Principal names the
// service ("*" names everyone).
func principalMatches(raw json.RawMessage, service string) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var byType map[string]jsonStrings
	if json.Unmarshal(raw, &byType) != nil {
		return false
	}
	for typ, ids := range byType {
		for _, id := range ids {
			if id == "*" && typ == "AWS" || typ == "Service" && id == service {
				return true
			}
		}
	}
	return false
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00")); ok {
			return true
		}
	}
	return false
}

// conditionMatches evaluates one condition operator on one key.
func conditionMatches(op, key string, values []string, context map[string]string) bool {
	base, ifExists := strings.CutSuffix(op, "IfExists")
	var got string
	var present bool
	for k, v := range context {
		if strings.EqualFold(k, key) {
			got, present = v, true
		}
	}
	negated := strings.Contains(base, "Not")
	if !present {
		return ifExists || negated
	}
	match := false
	for _, want := range values {
		switch strings.Replace(base, "Not", "", 1) {
		case "StringEquals", "ArnEquals":
			match = match || got == want
		case "StringEqualsIgnoreCase":
			match = match || strings.EqualFold(got, want)
		case "StringLike", "ArnLike":
			match = match || anyGlob([]string{want}, got, false)
		case "Bool":
			match = match || strings.EqualFold(got, want)
		default:
			return false // an operator the fake AWS does not model matches nothing
		}
	}
	return match != negated
}

// IDs of the rules that evaluate policies for the requests services make
// when a resource is created.
const (
	ruleTrailBucket = "across/cloudtrail-bucket-policy"
	ruleTrailKey    = "across/cloudtrail-key-policy"
	ruleServiceRole = "across/service-role-trust"
)

// accessRules describe the rules below for Rules.
var accessRules = []RuleInfo{
	{ruleTrailBucket, "aws:cloudtrail/trail:Trail", "s3BucketName", "CloudTrail CreateTrail: InsufficientS3BucketPolicyException unless the bucket policy lets cloudtrail.amazonaws.com call s3:GetBucketAcl on the bucket and s3:PutObject on <prefix/>AWSLogs/<account>/* with the bucket-owner-full-control ACL, under the trail's aws:SourceArn (CloudTrail user guide, \"Amazon S3 bucket policy for CloudTrail\")"},
	{ruleTrailKey, "aws:cloudtrail/trail:Trail", "kmsKeyId", "CloudTrail CreateTrail: InsufficientEncryptionPolicyException unless the key policy lets cloudtrail.amazonaws.com call kms:DescribeKey (a request without encryption context) and kms:GenerateDataKey* under the kms:EncryptionContext:aws:cloudtrail:arn of the trail (CloudTrail user guide, \"Configure AWS KMS key policies for CloudTrail\")"},
	{rulePreviewReads, "aws:iam/role:Role", "assumeRolePolicy", "a role that GitHub's OIDC provider assumes (CI's preview) must be allowed, by its inline policies and managed ReadOnlyAccess, the reads the program's invokes make at every preview: GetSecretValue and the KMS Decrypt Secrets Manager makes for it, DescribeSubnets, GetParameter (Service Authorization Reference; IAM user guide, \"Policy evaluation logic\")"},
	{ruleServiceRole, "aws:*", "role ARNs passed to a service", "the services check at creation that they may assume the role they are given: RDS CreateDBInstance MonitoringRoleArn (monitoring.rds.amazonaws.com, InvalidParameterCombination), EKS CreateCluster roleArn (eks.amazonaws.com) and CreateNodegroup nodeRole (ec2.amazonaws.com, InvalidParameterException)"},
}

// serviceRoles are the inputs that hand a role to a service that checks,
// at creation, that it may assume it.
var serviceRoles = []struct{ typ, input, service string }{
	{"aws:rds/instance:Instance", "monitoringRoleArn", "monitoring.rds.amazonaws.com"},
	{"aws:eks/cluster:Cluster", "roleArn", "eks.amazonaws.com"},
	{"aws:eks/nodeGroup:NodeGroup", "nodeRoleArn", "ec2.amazonaws.com"},
}

// checkServiceAccess evaluates, for every resource whose creation makes
// AWS check a policy as a service principal, that policy for that request.
func checkServiceAccess(records []Record, env Env) []Violation {
	byARN := map[string]*Record{}
	bucketPolicy := map[string]string{}
	for i := range records {
		r := &records[i]
		if arn := stringAt(r.Outputs, "arn"); arn != "" {
			byARN[arn] = r
		}
		if r.Type == "aws:s3/bucketPolicy:BucketPolicy" {
			bucketPolicy[stringAt(r.Inputs, "bucket")] = stringAt(r.Inputs, "policy")
		}
	}
	var out []Violation
	add := func(r *Record, input, rule, format string, args ...any) {
		out = append(out, Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: input, Rule: rule, Message: fmt.Sprintf(format, args...) + " (" + sourceOf(rule) + ")"})
	}
	for i := range records {
		r := &records[i]
		if r.Type == "aws:cloudtrail/trail:Trail" {
			checkTrail(r, env, bucketPolicy, byARN, add)
		}
		for _, s := range serviceRoles {
			arn := stringAt(r.Inputs, s.input)
			if r.Type != s.typ || arn == "" {
				continue
			}
			role := byARN[arn]
			if role == nil || role.Type != "aws:iam/role:Role" {
				continue // a role the stack does not create: the ARN rules judge it
			}
			req := accessRequest{service: s.service, action: "sts:AssumeRole", context: map[string]string{"aws:SourceAccount": env.AccountID}}
			if ok, why := allows(stringAt(role.Inputs, "assumeRolePolicy"), req); !ok {
				add(r, s.input, ruleServiceRole, "%s may not assume role %s (%s): its trust policy %s", s.service, role.Name, arn, why)
			}
		}
	}
	return out
}

// checkTrail evaluates the requests CloudTrail makes at CreateTrail.
func checkTrail(r *Record, env Env, bucketPolicy map[string]string, byARN map[string]*Record, add func(*Record, string, string, string, ...any)) {
	name, bucket := stringAt(r.Inputs, "name"), stringAt(r.Inputs, "s3BucketName")
	trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", env.Region, env.AccountID, name)
	context := map[string]string{"aws:SourceArn": trailARN, "aws:SourceAccount": env.AccountID, "aws:SecureTransport": "true"}
	keyARN := stringAt(r.Inputs, "kmsKeyId")
	prefix := stringAt(r.Inputs, "s3KeyPrefix")
	if prefix != "" {
		prefix += "/"
	}
	put := map[string]string{"s3:x-amz-acl": "bucket-owner-full-control"}
	if keyARN != "" {
		put["s3:x-amz-server-side-encryption"] = "aws:kms"
		put["s3:x-amz-server-side-encryption-aws-kms-key-id"] = keyARN
	}
	maps := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range context {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	policy, ok := bucketPolicy[bucket]
	if !ok {
		add(r, "s3BucketName", ruleTrailBucket, "bucket %s has no bucket policy: CloudTrail may not write to it", bucket)
	} else {
		for _, req := range []accessRequest{
			{"cloudtrail.amazonaws.com", "s3:GetBucketAcl", "arn:aws:s3:::" + bucket, context, false},
			{"cloudtrail.amazonaws.com", "s3:PutObject", fmt.Sprintf("arn:aws:s3:::%s/%sAWSLogs/%s/CloudTrail/%s/2026/01/01/log.json.gz", bucket, prefix, env.AccountID, env.Region), maps(put), false},
		} {
			if ok, why := allows(policy, req); !ok {
				add(r, "s3BucketName", ruleTrailBucket, "the policy of bucket %s does not let CloudTrail call %s on %s: %s", bucket, req.action, req.resource, why)
			}
		}
	}
	key := byARN[keyARN]
	if keyARN == "" || key == nil || key.Type != "aws:kms/key:Key" {
		return
	}
	for _, req := range []accessRequest{
		{"cloudtrail.amazonaws.com", "kms:DescribeKey", keyARN, context, false},
		{"cloudtrail.amazonaws.com", "kms:GenerateDataKey", keyARN, maps(map[string]string{"kms:EncryptionContext:aws:cloudtrail:arn": trailARN}), false},
	} {
		if ok, why := allows(stringAt(key.Inputs, "policy"), req); !ok {
			add(r, "kmsKeyId", ruleTrailKey, "the policy of key %s does not let CloudTrail call %s: %s", key.Name, req.action, why)
		}
	}
}

func sourceOf(rule string) string {
	for _, r := range accessRules {
		if r.ID == rule {
			return r.Source
		}
	}
	return ""
}
