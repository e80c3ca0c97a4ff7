package policy

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dataplatform/dataplatform/plan"
)

// Resource types the rules look at.
const (
	tBucket       = "aws:s3/bucketV2:BucketV2"
	tBucketSSE    = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tBucketPAB    = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
	tBucketOwner  = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tBucketVer    = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tRDS          = "aws:rds/instance:Instance"
	tRDSParams    = "aws:rds/parameterGroup:ParameterGroup"
	// tEKS is the EKS cluster pulumi-eks creates inside its component: the
	// rules read what AWS receives, not the component's arguments.
	tEKS          = "aws:eks/cluster:Cluster"
	tLaunchTmpl   = "aws:ec2/launchTemplate:LaunchTemplate"
	tInstance     = "aws:ec2/instance:Instance"
	tNodeGroup    = "aws:eks/nodeGroup:NodeGroup"
	tNodeClass    = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
	tConfigMap    = "kubernetes:core/v1:ConfigMap"
	tRole         = "aws:iam/role:Role"
	tPolicy       = "aws:iam/policy:Policy"
	tRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	tSGRule       = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tSG           = "aws:ec2/securityGroup:SecurityGroup"
	tSGRuleLegacy = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tVpc          = "aws:ec2/vpc:Vpc"
	tFlowLog      = "aws:ec2/flowLog:FlowLog"
	tKMSKey       = "aws:kms/key:Key"
	tSecret       = "aws:secretsmanager/secret:Secret"
)

// githubEnvironmentSubject is GitHub's OIDC subject of a job that runs in
// a deployment environment.
var githubEnvironmentSubject = regexp.MustCompile(`^repo:[A-Za-z0-9._-]+/[A-Za-z0-9._-]+:environment:[A-Za-z0-9._-]+$`)

var rules = slices.Concat(baseRules, accessRules, kubernetesRules, auditRules, objectRules())

// objectRules are the plan's guardrails over the cluster's objects
// (plan.ObjectGuardrails), such as k8s/db-tls: their IDs are the checks'.
func objectRules() []Rule {
	var out []Rule
	for _, o := range plan.ObjectGuardrails() {
		id := o.ID
		out = append(out, Rule{ID: id, Severity: o.Severity, Control: o.Source, Description: o.Description,
			check: func(g *graph) []Violation { return g.p.CheckObjectGuardrail(id) }})
	}
	return out
}

var baseRules = []Rule{
	// S3
	{ID: "S3-001", Severity: High, Control: "AWS FSBP S3.17", Description: "S3 buckets are encrypted with a customer-managed KMS key", check: bucketSetting(tBucketSSE, func(in map[string]any) string {
		for _, r := range objects(in["rules"]) {
			if str(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") == "aws:kms" && str(r, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") != "" {
				return ""
			}
		}
		return "default encryption is not SSE-KMS with a key of ours"
	})},
	{ID: "S3-002", Severity: High, Control: "AWS FSBP S3.8", Description: "S3 buckets block all public access", check: bucketSetting(tBucketPAB, func(in map[string]any) string {
		for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if !boolean(in, k) {
				return k + " is not true"
			}
		}
		return ""
	})},
	{ID: "S3-003", Severity: High, Control: "AWS FSBP S3.5", Description: "S3 bucket policies refuse requests not made over TLS", check: bucketSetting(tBucketPolicy, func(in map[string]any) string {
		doc, _ := in["policy"].(map[string]any)
		for _, s := range objects(doc["Statement"]) {
			if str(s, "Effect") == "Deny" && strings.Contains(strings.Join(list(at(s, "Condition", "Bool", "aws:SecureTransport")), ","), "false") {
				return ""
			}
		}
		return "no statement denies aws:SecureTransport false"
	})},
	{ID: "S3-004", Severity: Medium, Control: "AWS FSBP S3.12", Description: "S3 buckets disable ACLs (BucketOwnerEnforced)", check: bucketSetting(tBucketOwner, func(in map[string]any) string {
		if str(in, "rule", "objectOwnership") != "BucketOwnerEnforced" {
			return "object ownership is not BucketOwnerEnforced"
		}
		return ""
	})},
	{ID: "S3-005", Severity: Medium, Control: "AWS FSBP S3.14", Description: "S3 buckets that hold data keep versions", check: bucketSetting(tBucketVer, func(in map[string]any) string {
		if str(in, "versioningConfiguration", "status") != "Enabled" {
			return "versioning is not enabled"
		}
		return ""
	})},
	// RDS
	{ID: "RDS-001", Severity: High, Control: "AWS FSBP RDS.3", Description: "RDS storage is encrypted with a key of ours", check: each(tRDS, func(g *graph, r plan.Resource) string {
		if !boolean(r.Inputs, "storageEncrypted") || str(r.Inputs, "kmsKeyId") == "" {
			return "storage is not encrypted with a customer-managed key"
		}
		return ""
	})},
	{ID: "RDS-002", Severity: High, Control: "AWS FSBP RDS.2", Description: "RDS instances are not publicly accessible", check: each(tRDS, func(g *graph, r plan.Resource) string {
		if boolean(r.Inputs, "publiclyAccessible") {
			return "publiclyAccessible is true"
		}
		return ""
	})},
	{ID: "RDS-003", Severity: Medium, Control: "AWS FSBP RDS.11", Description: "RDS keeps automated backups at least 7 days", check: each(tRDS, func(g *graph, r plan.Resource) string {
		if isReplica(r) {
			return ""
		}
		if days, _ := number(r.Inputs, "backupRetentionPeriod"); days < 7 {
			return "backups are kept fewer than 7 days"
		}
		return ""
	})},
	{ID: "RDS-004", Severity: High, Control: "AWS FSBP RDS.8", Description: "RDS instances have deletion protection", check: each(tRDS, func(g *graph, r plan.Resource) string {
		if !boolean(r.Inputs, "deletionProtection") {
			return "deletionProtection is off"
		}
		return ""
	})},
	{ID: "RDS-005", Severity: High, Control: "AWS FSBP RDS.5", Description: "RDS primaries are Multi-AZ", check: each(tRDS, func(g *graph, r plan.Resource) string {
		if !isReplica(r) && !boolean(r.Inputs, "multiAz") {
			return "the primary is single-AZ"
		}
		return ""
	})},
	{ID: "RDS-006", Severity: High, Control: "AWS RDS guide: requiring TLS (rds.force_ssl)", Description: "RDS PostgreSQL refuses connections without TLS", check: each(tRDS, func(g *graph, r plan.Resource) string {
		name := str(r.Inputs, "parameterGroupName")
		for _, pg := range g.of(tRDSParams) {
			n, prefix := str(pg.Inputs, "name"), str(pg.Inputs, "namePrefix")
			if name == "" || !(name == n || (prefix != "" && strings.HasPrefix(name, prefix))) {
				continue
			}
			for _, p := range objects(pg.Inputs["parameters"]) {
				if str(p, "name") == "rds.force_ssl" && str(p, "value") == "1" {
					return ""
				}
			}
		}
		return "its parameter group does not set rds.force_ssl = 1"
	})},
	// EKS
	{ID: "EKS-001", Severity: High, Control: "CIS EKS 5.3.1; AWS FSBP EKS.3", Description: "Kubernetes secrets are envelope-encrypted with KMS", check: each(tEKS, func(g *graph, r plan.Resource) string {
		if str(r.Inputs, "encryptionConfig", "provider", "keyArn") == "" || !slices.Contains(list(at(r.Inputs, "encryptionConfig", "resources")), "secrets") {
			return "no encryptionConfig of secrets with a KMS key"
		}
		return ""
	})},
	{ID: "EKS-002", Severity: Medium, Control: "CIS EKS 2.1.1; AWS FSBP EKS.8", Description: "Every control-plane log type is enabled", check: each(tEKS, func(g *graph, r plan.Resource) string {
		have := map[string]bool{}
		for _, l := range list(r.Inputs["enabledClusterLogTypes"]) {
			have[l] = true
		}
		for _, l := range []string{"api", "audit", "authenticator", "controllerManager", "scheduler"} {
			if !have[l] {
				return "log type " + l + " is off"
			}
		}
		return ""
	})},
	{ID: "EKS-003", Severity: High, Control: "CIS EKS 5.4.2; AWS FSBP EKS.1", Description: "The API endpoint is private, or public only to listed CIDRs", check: each(tEKS, func(g *graph, r plan.Resource) string {
		if v, ok := at(r.Inputs, "vpcConfig", "endpointPublicAccess").(bool); ok && !v {
			return ""
		}
		cidrs := list(at(r.Inputs, "vpcConfig", "publicAccessCidrs"))
		if len(cidrs) == 0 {
			return "the public endpoint is open to 0.0.0.0/0 (no publicAccessCidrs)"
		}
		for _, c := range cidrs {
			if strings.HasSuffix(c, "/0") {
				return "the public endpoint is open to " + c
			}
		}
		return ""
	})},
	{ID: "EKS-004", Severity: High, Control: "EKS best practices: access entries (no aws-auth)", Description: "Cluster access is granted by access entries, not the aws-auth ConfigMap", check: func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.of(tEKS) {
			if mode := str(r.Inputs, "accessConfig", "authenticationMode"); mode != "API" {
				out = append(out, violation(r, "accessConfig.authenticationMode is %q, not API", mode))
			}
		}
		for _, r := range g.of(tConfigMap) {
			if str(r.Inputs, "metadata", "name") == "aws-auth" {
				out = append(out, violation(r, "manages the aws-auth ConfigMap"))
			}
		}
		return out
	}},
	{ID: "EKS-005", Severity: High, Control: "CIS EKS 3.x; AWS FSBP EC2.8", Description: "Every node requires IMDSv2 with a hop limit of 1", check: func(g *graph) []Violation {
		var out []Violation
		imds := func(r plan.Resource, md map[string]any) {
			hop, _ := number(md, "httpPutResponseHopLimit")
			if str(md, "httpTokens") != "required" || hop != 1 {
				out = append(out, violation(r, "metadata options are not httpTokens=required with hop limit 1"))
			}
		}
		for _, r := range g.of(tLaunchTmpl) {
			md, _ := r.Inputs["metadataOptions"].(map[string]any)
			imds(r, md)
		}
		for _, r := range g.of(tNodeClass) {
			md, _ := at(r.Inputs, "spec", "metadataOptions").(map[string]any)
			imds(r, md)
		}
		for _, r := range g.of(tNodeGroup) {
			if at(r.Inputs, "launchTemplate") == nil {
				out = append(out, violation(r, "has no launch template, so IMDS keeps EKS's default hop limit of 2"))
			}
		}
		return out
	}},
	{ID: "EC2-001", Severity: High, Control: "AWS FSBP EC2.8", Description: "Every EC2 instance (such as a NAT instance) requires IMDSv2 with a hop limit of 1", check: each(tInstance, func(g *graph, r plan.Resource) string {
		md, _ := r.Inputs["metadataOptions"].(map[string]any)
		if hop, _ := number(md, "httpPutResponseHopLimit"); str(md, "httpTokens") != "required" || hop != 1 {
			return "metadata options are not httpTokens=required with hop limit 1"
		}
		return ""
	})},
	// IAM
	{ID: "IAM-001", Severity: High, Control: "AWS FSBP IAM.1, IAM.21", Description: "No statement allows every action (\"*\" or \"service:*\")", check: statements(func(s map[string]any) string {
		for _, a := range list(s["Action"]) {
			if a == "*" || strings.HasSuffix(a, ":*") {
				return "allows " + a
			}
		}
		return ""
	})},
	{ID: "IAM-002", Severity: High, Control: "AWS FSBP IAM.21", Description: "No Resource \"*\" where AWS allows a narrower one, unless a condition scopes it", check: statements(func(s map[string]any) string {
		if !slices.Contains(list(s["Resource"]), "*") {
			return ""
		}
		if s["Condition"] != nil && scopingCondition(s["Condition"]) != "" {
			return ""
		}
		for _, a := range list(s["Action"]) {
			if unscopable(a) == "" {
				if s["Condition"] != nil {
					return a + " on Resource * with a condition that does not scope the resource"
				}
				return a + " on Resource * with no condition"
			}
		}
		return ""
	})},
	{ID: "IAM-003", Severity: High, Control: "AWS IAM best practices: least privilege", Description: "iam:PassRole names the roles it passes", check: statements(func(s map[string]any) string {
		for _, a := range list(s["Action"]) {
			if a == "iam:PassRole" || a == "iam:*" || a == "*" {
				for _, r := range list(s["Resource"]) {
					if strings.Contains(r, "*") {
						return a + " on " + r
					}
				}
			}
		}
		return ""
	})},
	{ID: "IAM-004", Severity: High, Control: "EKS best practices: IRSA trust scoped to a service account; GitHub: OIDC trust scoped to a protected environment", Description: "Every web-identity trust has exact sub and aud conditions: one service account, or one GitHub environment", check: each(tRole, func(g *graph, r plan.Resource) string {
		doc, _ := r.Inputs["assumeRolePolicy"].(map[string]any)
		for _, s := range objects(doc["Statement"]) {
			if !slices.Contains(list(s["Action"]), "sts:AssumeRoleWithWebIdentity") {
				continue
			}
			cond, _ := s["Condition"].(map[string]any)
			if _, like := cond["StringLike"]; like {
				return "uses StringLike in a web-identity trust"
			}
			eq, _ := cond["StringEquals"].(map[string]any)
			var sub, aud []string
			github := false
			for k, v := range eq {
				switch {
				case strings.HasSuffix(k, ":sub"):
					sub = list(v)
					github = k == "token.actions.githubusercontent.com:sub"
				case strings.HasSuffix(k, ":aud"):
					aud = list(v)
				}
			}
			if len(sub) == 0 || len(aud) != 1 || aud[0] != "sts.amazonaws.com" {
				return "a web-identity trust lacks exact sub and aud (sts.amazonaws.com) conditions"
			}
			for _, x := range sub {
				switch {
				case github && !githubEnvironmentSubject.MatchString(x):
					return "subject " + x + " is not one GitHub environment (repo:<owner>/<name>:environment:<name>): a branch, tag or pull request subject lets unreviewed code assume the role"
				case !github && (strings.ContainsAny(x, "*?") || !strings.HasPrefix(x, "system:serviceaccount:")):
					return "subject " + x + " is not one service account"
				}
			}
		}
		return ""
	})},
	// Network
	{ID: "NET-001", Severity: High, Control: "AWS FSBP EC2.18, EC2.19", Description: "No security group admits 0.0.0.0/0, except load balancer listeners on 80/443", check: func(g *graph) []Violation {
		var out []Violation
		open := func(r plan.Resource, cidrs []string, from, to float64, desc string) {
			for _, c := range cidrs {
				if c != "0.0.0.0/0" && c != "::/0" {
					continue
				}
				listener := (from == 80 || from == 443) && from == to && strings.Contains(strings.ToLower(desc), "load balancer")
				if !listener {
					out = append(out, violation(r, "admits %s on ports %v-%v", c, from, to))
				}
			}
		}
		for _, r := range g.of(tSGRule) {
			from, _ := number(r.Inputs, "fromPort")
			to, _ := number(r.Inputs, "toPort")
			open(r, list(r.Inputs["cidrIpv4"]), from, to, str(r.Inputs, "description"))
			open(r, list(r.Inputs["cidrIpv6"]), from, to, str(r.Inputs, "description"))
		}
		for _, r := range g.of(tSGRuleLegacy) {
			if str(r.Inputs, "type") != "ingress" {
				continue
			}
			from, _ := number(r.Inputs, "fromPort")
			to, _ := number(r.Inputs, "toPort")
			open(r, list(r.Inputs["cidrBlocks"]), from, to, str(r.Inputs, "description"))
		}
		for _, r := range g.of(tSG) {
			for _, in := range objects(r.Inputs["ingress"]) {
				from, _ := number(in, "fromPort")
				to, _ := number(in, "toPort")
				open(r, list(in["cidrBlocks"]), from, to, str(in, "description"))
			}
		}
		return out
	}},
	{ID: "NET-002", Severity: Medium, Control: "AWS FSBP EC2.6", Description: "Every VPC has flow logs", check: each(tVpc, func(g *graph, r plan.Resource) string {
		for _, fl := range g.of(tFlowLog) {
			if slices.Contains(fl.Dependencies, r.URN) {
				return ""
			}
		}
		return "no flow log captures this VPC"
	})},
	// KMS, secrets
	{ID: "KMS-001", Severity: Medium, Control: "AWS FSBP KMS.4", Description: "KMS keys rotate", check: each(tKMSKey, func(g *graph, r plan.Resource) string {
		if !boolean(r.Inputs, "enableKeyRotation") {
			return "key rotation is off"
		}
		return ""
	})},
	{ID: "SM-001", Severity: Medium, Control: "AWS Secrets Manager best practices: customer-managed keys", Description: "Secrets Manager secrets are encrypted with a key of ours", check: each(tSecret, func(g *graph, r plan.Resource) string {
		k := str(r.Inputs, "kmsKeyId")
		if k == "" || strings.Contains(k, "alias/aws/") {
			return "encrypted with the AWS-managed key"
		}
		return ""
	})},
	{ID: "SEC-001", Severity: High, Control: "AWS FSBP ECS.8 / CodeBuild.2 (no plaintext credentials)", Description: "No password, key or token is an input in plain text", check: func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.p.Resources {
			for _, path := range plaintextSecrets(r.Inputs, "") {
				out = append(out, violation(r, "input %s holds a plaintext value", path))
			}
		}
		return out
	}},
	// Tags
	{ID: "TAG-001", Severity: Low, Control: "AWS tagging best practices; cost allocation", Description: "Every taggable AWS resource carries the platform's tags", check: func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.p.Resources {
			if !strings.HasPrefix(r.Type, "aws:") || untaggable[r.Type] {
				continue
			}
			t, _ := r.Inputs["tags"].(map[string]any)
			for _, k := range PlatformTags {
				if _, ok := t[k]; !ok {
					out = append(out, violation(r, "missing tag %s", k))
					break
				}
			}
		}
		return out
	}},
	// Protection
	{ID: "PROT-001", Severity: High, Control: "AWS FSBP RDS.8 (by analogy); Pulumi protect", Description: "Data resources (RDS, S3 buckets, KMS keys) are protected from pulumi destroy", check: func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.of(tRDS, tBucket, tKMSKey) {
			if !r.Protect {
				out = append(out, violation(r, "not protected"))
			}
		}
		return out
	}},
}

// PlatformTags are the tag keys every taggable resource carries.
var PlatformTags = []string{"Project", "Environment", "ManagedBy"}

// starActions are the actions a statement may grant on an unconditioned
// "*", each with the reason: an explicit list of actions, never a verb
// prefix (a "Get" prefix would admit secretsmanager:GetSecretValue and
// s3:GetObject). A pattern ending in "*" stands for a family of actions
// that all lack resource-level permissions in the AWS Service
// Authorization Reference.
var starActions = map[string]string{
	"ec2:Describe*":                  "EC2 Describe actions take no resource-level permissions",
	"elasticloadbalancing:Describe*": "Elastic Load Balancing Describe actions take no resource-level permissions",
	"pricing:GetProducts":            "the Price List API takes no resource-level permissions",
	"iam:ListInstanceProfiles":       "a List action without resource-level permissions",
	"iam:ListServerCertificates":     "a List action without resource-level permissions",
	"acm:ListCertificates":           "a List action without resource-level permissions",
	"secretsmanager:ListSecrets":     "returns names and tags, never values; no resource-level permissions",
	"shield:GetSubscriptionState":    "no resource-level permissions",
	// The load balancer controller's upstream policy (its docs'
	// iam_policy.json): reads of metadata about resources an Ingress names
	// at run time, which the controller cannot know in advance. None
	// returns a secret value or an object.
	"ec2:GetCoipPoolUsage":               "load balancer controller: customer-owned IP pools named by an Ingress",
	"ec2:GetSecurityGroupsForVpc":        "load balancer controller: security groups of the VPC",
	"acm:DescribeCertificate":            "load balancer controller: certificates an Ingress names (public metadata)",
	"iam:GetServerCertificate":           "load balancer controller: server certificates an Ingress names (public certificate, no key)",
	"cognito-idp:DescribeUserPoolClient": "load balancer controller: the user pool client of an Ingress's Cognito action",
	"waf-regional:GetWebACL":             "load balancer controller: the web ACL an Ingress names",
	"waf-regional:GetWebACLForResource":  "load balancer controller: the web ACL of each load balancer it manages",
	"wafv2:GetWebACL":                    "load balancer controller: the web ACL an Ingress names",
	"wafv2:GetWebACLForResource":         "load balancer controller: the web ACL of each load balancer it manages",
	"shield:DescribeProtection":          "load balancer controller: Shield protection of its load balancers",
	"shield:CreateProtection":            "load balancer controller: Shield protection of its load balancers (only with Shield Advanced)",
	"shield:DeleteProtection":            "load balancer controller: Shield protection of its load balancers (only with Shield Advanced)",
}

// unscopable returns why action may be granted on "*", or "" when it may not.
func unscopable(action string) string {
	if why, ok := starActions[action]; ok {
		return why
	}
	for pattern, why := range starActions {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(action, prefix) {
			return why
		}
	}
	return ""
}

// untaggable are AWS resource types that take no tags.
var untaggable = map[string]bool{
	"aws:ec2/route:Route": true, "aws:ec2/routeTableAssociation:RouteTableAssociation": true,
	"aws:iam/rolePolicy:RolePolicy": true, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": true,
	"aws:sqs/queuePolicy:QueuePolicy": true, "aws:cloudwatch/eventTarget:EventTarget": true,
	tBucketSSE: true, tBucketPAB: true, tBucketPolicy: true, tBucketOwner: true, tBucketVer: true,
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": true,
	"aws:kms/alias:Alias": true, "aws:secretsmanager/secretVersion:SecretVersion": true,
	"aws:ec2/tag:Tag": true, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": true,
	tSGRuleLegacy: true,
	"aws:ecr/lifecyclePolicy:LifecyclePolicy": true, "aws:sns/topicPolicy:TopicPolicy": true,
	"aws:sns/topicSubscription:TopicSubscription": true, "aws:efs/mountTarget:MountTarget": true,
	// Cognito tags user pools only.
	"aws:cognito/userGroup:UserGroup": true, "aws:cognito/userPoolClient:UserPoolClient": true,
	"aws:cognito/userPoolDomain:UserPoolDomain": true, "aws:cognito/identityProvider:IdentityProvider": true,
}

// bucketSetting checks that every bucket has a setting resource of typ
// (found by the bucket's name) that passes ok (which returns "" or what is wrong).
func bucketSetting(typ string, ok func(map[string]any) string) func(*graph) []Violation {
	return func(g *graph) []Violation {
		var out []Violation
		for _, b := range g.of(tBucket) {
			name := str(b.Inputs, "bucket")
			found := false
			for _, s := range g.of(typ) {
				if str(s.Inputs, "bucket") == name || slices.Contains(s.Dependencies, b.URN) {
					found = true
					if msg := ok(s.Inputs); msg != "" {
						out = append(out, violation(b, "%s", msg))
					}
				}
			}
			if !found {
				out = append(out, violation(b, "has no %s", typ[strings.LastIndex(typ, ":")+1:]))
			}
		}
		return out
	}
}

// each applies check to every resource of typ.
func each(typ string, check func(*graph, plan.Resource) string) func(*graph) []Violation {
	return func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.of(typ) {
			if msg := check(g, r); msg != "" {
				out = append(out, violation(r, "%s", msg))
			}
		}
		return out
	}
}

// statements applies check to every Allow statement of every identity policy.
func statements(check func(map[string]any) string) func(*graph) []Violation {
	return func(g *graph) []Violation {
		var out []Violation
		for _, r := range g.of(tPolicy, tRolePolicy) {
			doc, _ := r.Inputs["policy"].(map[string]any)
			for _, s := range objects(doc["Statement"]) {
				if str(s, "Effect") != "Allow" {
					continue
				}
				if msg := check(s); msg != "" {
					sid := str(s, "Sid")
					if sid != "" {
						msg = sid + ": " + msg
					}
					out = append(out, violation(r, "%s", msg))
				}
			}
		}
		return out
	}
}

func isReplica(r plan.Resource) bool { return str(r.Inputs, "replicateSourceDb") != "" }

// secretKeys are input names (at any depth) whose value is a credential.
var secretKeys = map[string]bool{
	"password": true, "masterpassword": true, "secret": true, "secretstring": true, "token": true,
	"apikey": true, "secretaccesskey": true, "privatekey": true, "fernetkey": true, "jwtsecret": true,
	"accesskeyid": true, "clientsecret": true, "webserversecretkey": true,
}

// plaintextSecrets lists the paths of credential-named inputs holding a
// non-empty value that is not marked secret.
func plaintextSecrets(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if s, ok := e.(string); ok && secretKeys[strings.ToLower(k)] && s != "" && s != plan.SecretMarker && s != plan.UnknownMarker {
				out = append(out, p)
				continue
			}
			out = append(out, plaintextSecrets(e, p)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, plaintextSecrets(e, path+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return out
}
