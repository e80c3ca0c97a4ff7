package mocks

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// IDs of the rules that span inputs or resources.
const (
	ruleARN              = "arn"
	ruleTags             = "tags"
	rulePolicySize       = "policy/size"
	rulePolicyForm       = "policy/form"
	ruleNodeArch         = "record/aws:eks/nodeGroup:NodeGroup/architecture"
	ruleCreditSpec       = "record/aws:ec2/instance:Instance/creditSpecification"
	ruleNodeScaling      = "record/aws:eks/nodeGroup:NodeGroup/scaling"
	ruleRDSStorage       = "record/aws:rds/instance:Instance/maxAllocatedStorage"
	ruleRDSWindows       = "record/aws:rds/instance:Instance/windows"
	ruleSubnetZone       = "record/aws:ec2/subnet:Subnet/availabilityZone"
	ruleEndpointService  = "record/aws:ec2/vpcEndpoint:VpcEndpoint/serviceName"
	rulePortRange        = "record/security-group-rule/ports"
	ruleRuleSource       = "record/security-group-rule/source"
	ruleEndpointAccess   = "record/aws:eks/cluster:Cluster/endpoint"
	ruleSubnetInVpc      = "across/subnet-in-vpc"
	ruleSubnetOverlap    = "across/subnet-overlap"
	ruleTwoZones         = "across/two-zones"
	ruleManagedPerRole   = "across/managed-policies-per-role"
	ruleInlinePerRole    = "across/inline-policies-per-role"
	ruleAccessEntryOnce  = "across/access-entry-once"
	ruleParameterFamily  = "across/parameter-group-family"
	ruleMappedAttributes = "across/cognito-mapped-attributes"
	ruleOneSnapshot      = "across/one-snapshot-at-a-time"
	managedPoliciesLimit = 10
)

// globalRules describe the rules below for Rules.
var globalRules = []RuleInfo{
	{ruleARN, "*", "every string input", "ARN format (IAM reference-arns): partition aws, the caller's region for regional services, none for global ones, the caller's account (or one the config names, or aws for AWS-managed)"},
	{ruleTags, "aws:*", "tags", "Tagging AWS resources: at most 50 user tags, keys 1 to 128 characters not starting with aws:, values up to 256"},
	{rulePolicySize, "aws:*", "policy documents", "IAM quotas (trust policy 2,048, managed policy 6,144, inline policies 10,240 characters without white space), S3 bucket policy 20 KB, SQS policy 8,192 bytes, KMS key policy 32 KB, SNS topic policy 30 KB"},
	{rulePolicyForm, "aws:*", "policy documents", "IAM JSON policy grammar: Version 2012-10-17, Effect Allow or Deny, actions of the form service:Action"},
	{ruleNodeArch, "aws:eks/nodeGroup:NodeGroup", "amiType, instanceTypes", "EKS CreateNodegroup: an ARM_64 AMI type needs Graviton (arm64) instance types, an x86_64 one x86 types"},
	{ruleCreditSpec, "aws:ec2/instance:Instance", "creditSpecification, instanceType", "EC2 RunInstances CreditSpecification: only burstable performance (T) instance types take one"},
	{ruleNodeScaling, "aws:eks/nodeGroup:NodeGroup", "scalingConfig", "EKS NodegroupScalingConfig: minSize <= desiredSize <= maxSize"},
	{ruleRDSStorage, "aws:rds/instance:Instance", "maxAllocatedStorage", "RDS storage autoscaling: MaxAllocatedStorage must exceed AllocatedStorage"},
	{ruleRDSWindows, "aws:rds/instance:Instance", "backupWindow, maintenanceWindow", "RDS: each window at least 30 minutes, and they must not overlap"},
	{ruleSubnetZone, "aws:ec2/subnet:Subnet", "availabilityZone", "VPC CreateSubnet: a zone of the region"},
	{ruleEndpointService, "aws:ec2/vpcEndpoint:VpcEndpoint", "serviceName", "EC2 CreateVpcEndpoint: com.amazonaws.<the VPC's region>.<service>"},
	{rulePortRange, "aws:*", "fromPort, toPort", "EC2 IpPermission: FromPort <= ToPort"},
	{ruleRuleSource, "aws:*", "security group rule sources", "EC2 IpPermission: exactly one source (CIDR, prefix list or group)"},
	{ruleEndpointAccess, "aws:eks/cluster:Cluster", "vpcConfig", "EKS VpcConfigRequest: private or public endpoint access must be on, and the cluster needs subnets in two zones"},
	{ruleSubnetInVpc, "aws:ec2/subnet:Subnet", "cidrBlock", "VPC CreateSubnet: the block must lie inside the VPC's"},
	{ruleSubnetOverlap, "aws:ec2/subnet:Subnet", "cidrBlock", "VPC CreateSubnet: InvalidSubnet.Conflict when blocks overlap"},
	{ruleTwoZones, "aws:*", "subnetIds", "RDS DB subnet groups and EKS clusters need subnets in at least two zones"},
	{ruleManagedPerRole, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "role", "IAM quotas: 10 managed policies per role (default quota)"},
	{ruleInlinePerRole, "aws:iam/rolePolicy:RolePolicy", "policy", "IAM quotas: inline policies of a role 10,240 characters in all"},
	{ruleAccessEntryOnce, "aws:eks/accessEntry:AccessEntry", "principalArn", "EKS CreateAccessEntry: ResourceInUseException for a principal that has an entry, including those EKS creates for managed node group roles and for the cluster's creator"},
	{ruleParameterFamily, "aws:rds/instance:Instance", "parameterGroupName", "RDS: the parameter group's family must match the engine's major version"},
	{ruleOneSnapshot, "aws:rds/snapshot:Snapshot", "dbInstanceIdentifier", "RDS CreateDBSnapshot: InvalidDBInstanceState while the instance is not available, as it is while another snapshot of it is being taken (status backing-up); snapshots of one instance must wait for each other"},
	{ruleMappedAttributes, "aws:cognito/userPoolClient:UserPoolClient", "writeAttributes", "Cognito UserPoolClientType WriteAttributes: a client whose users sign in through an identity provider must be allowed to write every attribute the provider's AttributeMapping fills (unset, only the standard attributes), or Cognito fails the sign-in"},
}

var arnPattern = regexp.MustCompile(`^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.+)$`)

// globalServices have no region in their ARNs.
var globalServices = map[string]bool{"iam": true, "s3": true, "sts": true, "route53": true, "cloudfront": true, "organizations": true}

// checkARNs checks every ARN in r's inputs against env: the partition, a
// region where the service is regional, and the account.
func checkARNs(r *Record, env Env, add addFunc) {
	for k, v := range r.Inputs {
		walkStrings(string(k), v, func(path, s string) {
			m := arnPattern.FindStringSubmatch(s)
			if m == nil {
				return
			}
			part, svc, region, acct := m[1], m[2], m[3], m[4]
			var problems []string
			if part != "aws" {
				problems = append(problems, fmt.Sprintf("partition %q is not the caller's (aws)", part))
			}
			switch {
			case region == "*" || strings.Contains(region, "${"):
			case globalServices[svc] && region != "":
				problems = append(problems, fmt.Sprintf("%s is a global service: its ARNs have no region, not %q", svc, region))
			case !globalServices[svc] && region != env.Region && !(region == "" && acct == "aws"):
				problems = append(problems, fmt.Sprintf("region %q is not the stack's (%s)", region, env.Region))
			}
			switch {
			case acct == env.AccountID || acct == "*" || strings.Contains(acct, "${") || env.ExternalAccounts[acct]:
			case acct == "aws" && (svc == "iam" || svc == "eks"):
			case acct == "" && (svc == "s3" || strings.Contains(path, ".Statement[")):
				// S3 ARNs have no account; in a policy an empty account
				// matches resources AWS owns (public AMIs, SSM parameters).
			default:
				problems = append(problems, fmt.Sprintf("account %q is not the caller's (%s) and the config names no such external account", acct, env.AccountID))
			}
			if len(problems) > 0 {
				add(path, ruleARN, "%q: %s", s, strings.Join(problems, "; "))
			}
		})
	}
}

var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// checkTags checks the tags of r (and those a launch template puts on what
// it launches).
func checkTags(r *Record, add addFunc) {
	check := func(path string, v resource.PropertyValue) {
		v = unwrap(v)
		if !v.IsObject() {
			return
		}
		tags := v.ObjectValue()
		if len(tags) > 50 {
			add(path, ruleTags, "%d tags; AWS allows 50 per resource", len(tags))
		}
		for k, val := range tags {
			key, value := string(k), ""
			if s := unwrap(val); s.IsString() {
				value = s.StringValue()
			}
			switch {
			case len(key) < 1 || len(key) > 128:
				add(path+"."+key, ruleTags, "tag key of %d characters; want 1 to 128", len(key))
			case strings.HasPrefix(strings.ToLower(key), "aws:"):
				add(path+"."+key, ruleTags, "tag keys starting with aws: are reserved for AWS")
			case len(value) > 256:
				add(path+"."+key, ruleTags, "tag value of %d characters; want up to 256", len(value))
			case !tagChars.MatchString(key) || !tagChars.MatchString(value):
				add(path+"."+key, ruleTags, "tag %q=%q has characters outside letters, digits, spaces and _ . : / = + - @", key, value)
			}
		}
	}
	if v, ok := r.Inputs["tags"]; ok {
		check("tags", v)
	}
	for _, f := range lookup(r.Inputs, "tagSpecifications[].tags") {
		check(f.path, f.v)
	}
}

// documentLimits are the size limits of the policy documents by type and
// input, and whether white space counts.
var documentLimits = map[string]struct {
	max        int
	whitespace bool
	what       string
}{
	"aws:iam/role:Role/assumeRolePolicy":      {2048, false, "an IAM role trust policy (2,048 characters without white space)"},
	"aws:iam/policy:Policy/policy":            {6144, false, "an IAM managed policy (6,144 characters without white space)"},
	"aws:iam/rolePolicy:RolePolicy/policy":    {10240, false, "an IAM inline policy (10,240 characters without white space)"},
	"aws:s3/bucketPolicy:BucketPolicy/policy": {20480, true, "an S3 bucket policy (20 KB)"},
	"aws:sqs/queuePolicy:QueuePolicy/policy":  {8192, true, "an SQS queue policy (8,192 bytes)"},
	"aws:kms/key:Key/policy":                  {32768, true, "a KMS key policy (32 KB)"},
	"aws:sns/topicPolicy:TopicPolicy/policy":  {30720, true, "an SNS topic policy (30 KB)"},
}

var actionForm = regexp.MustCompile(`^([a-z0-9-]+:[A-Za-z0-9*?]+|\*)$`)

// checkDocuments checks the size and grammar of r's policy documents.
func checkDocuments(r *Record, add addFunc) {
	for key, lim := range documentLimits {
		i := strings.LastIndex(key, "/")
		typ, prop := key[:i], key[i+1:]
		if typ != r.Type {
			continue
		}
		doc := stringAt(r.Inputs, prop)
		if doc == "" {
			continue
		}
		n := len(doc)
		if !lim.whitespace {
			n = len(strings.Map(func(c rune) rune {
				if unicode.IsSpace(c) {
					return -1
				}
				return c
			}, doc))
		}
		if n > lim.max {
			add(prop, rulePolicySize, "%d characters; too long for %s", n, lim.what)
		}
		var parsed struct {
			Version   string            `json:"Version"`
			Statement []json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
			add(prop, rulePolicyForm, "not a JSON policy document: %v", err)
			continue
		}
		if parsed.Version != "2012-10-17" {
			add(prop, rulePolicyForm, "Version %q; policies with variables or conditions need \"2012-10-17\"", parsed.Version)
		}
		for i, raw := range parsed.Statement {
			var st struct {
				Effect    string `json:"Effect"`
				Action    any    `json:"Action"`
				NotAction any    `json:"NotAction"`
			}
			_ = json.Unmarshal(raw, &st)
			if st.Effect != "Allow" && st.Effect != "Deny" {
				add(fmt.Sprintf("%s.Statement[%d].Effect", prop, i), rulePolicyForm, "%q is not Allow or Deny", st.Effect)
			}
			for _, a := range append(anyStrings(st.Action), anyStrings(st.NotAction)...) {
				if !actionForm.MatchString(a) {
					add(fmt.Sprintf("%s.Statement[%d].Action", prop, i), rulePolicyForm, "%q is not of the form service:Action", a)
				}
			}
		}
	}
}

func anyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func numberAt(m resource.PropertyMap, path string) (float64, bool) {
	f := lookup(m, path)
	if len(f) == 0 || !unwrap(f[0].v).IsNumber() {
		return 0, false
	}
	return unwrap(f[0].v).NumberValue(), true
}

func stringsAt(m resource.PropertyMap, path string) []string {
	var out []string
	for _, f := range lookup(m, path) {
		if v := unwrap(f.v); v.IsString() {
			out = append(out, v.StringValue())
		} else if v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e = unwrap(e); e.IsString() {
					out = append(out, e.StringValue())
				}
			}
		}
	}
	return out
}

var armFamily = regexp.MustCompile(`^[a-z]+\d+[a-z]*g[a-z]*\.`)

// checkRecordRules checks rules that tie several inputs of one resource.
func checkRecordRules(r *Record, env Env, add addFunc) {
	in := r.Inputs
	switch r.Type {
	case "aws:ec2/instance:Instance":
		cs, ok := in["creditSpecification"]
		if typ := stringAt(in, "instanceType"); ok && unwrap(cs).IsObject() && stringAt(unwrap(cs).ObjectValue(), "cpuCredits") != "" && !strings.HasPrefix(typ, "t") {
			add("creditSpecification", ruleCreditSpec, "%s is not a burstable type (%s)", typ, globalSource(ruleCreditSpec))
		}
	case "aws:eks/nodeGroup:NodeGroup":
		ami := stringAt(in, "amiType")
		arm := strings.Contains(ami, "ARM_64")
		for _, it := range stringsAt(in, "instanceTypes") {
			if isArm := armFamily.MatchString(it); ami != "" && ami != "CUSTOM" && isArm != arm {
				add("instanceTypes", ruleNodeArch, "%s does not run AMI type %s (%s)", it, ami, globalSource(ruleNodeArch))
			}
		}
		lo, _ := numberAt(in, "scalingConfig.minSize")
		want, _ := numberAt(in, "scalingConfig.desiredSize")
		hi, _ := numberAt(in, "scalingConfig.maxSize")
		if lo > want || want > hi {
			add("scalingConfig", ruleNodeScaling, "minSize %g, desiredSize %g, maxSize %g (%s)", lo, want, hi, globalSource(ruleNodeScaling))
		}
	case "aws:rds/instance:Instance":
		alloc, okA := numberAt(in, "allocatedStorage")
		maxA, okM := numberAt(in, "maxAllocatedStorage")
		if okA && okM && maxA > 0 && maxA <= alloc {
			add("maxAllocatedStorage", ruleRDSStorage, "%g is not more than allocatedStorage %g (%s)", maxA, alloc, globalSource(ruleRDSStorage))
		}
		checkWindows(in, add)
	case "aws:ec2/subnet:Subnet":
		if z := stringAt(in, "availabilityZone"); z != "" && !contains(env.Zones, z) {
			add("availabilityZone", ruleSubnetZone, "%q is not a zone of %s (%s)", z, env.Region, strings.Join(env.Zones, ", "))
		}
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		if s := stringAt(in, "serviceName"); !strings.HasPrefix(s, "com.amazonaws."+env.Region+".") {
			add("serviceName", ruleEndpointService, "%q is not a service of %s (com.amazonaws.%s.<service>)", s, env.Region, env.Region)
		}
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		checkPorts(in, stringAt(in, "ipProtocol"), add)
		checkSources(in, []string{"cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"}, add)
	case "aws:ec2/securityGroupRule:SecurityGroupRule":
		checkPorts(in, stringAt(in, "protocol"), add)
		n := 0
		for _, k := range []string{"cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "sourceSecurityGroupId"} {
			if v, ok := in[resource.PropertyKey(k)]; ok && !empty(v) {
				n++
			}
		}
		if v, ok := in["self"]; ok && unwrap(v).IsBool() && unwrap(v).BoolValue() {
			n++
		}
		if n == 0 {
			add("cidrBlocks", ruleRuleSource, "no source: want CIDR blocks, a prefix list, a security group or self (%s)", globalSource(ruleRuleSource))
		}
	case "aws:eks/cluster:Cluster":
		priv := lookup(in, "vpcConfig.endpointPrivateAccess")
		pub := lookup(in, "vpcConfig.endpointPublicAccess")
		off := func(f []found) bool { return len(f) > 0 && unwrap(f[0].v).IsBool() && !unwrap(f[0].v).BoolValue() }
		if off(priv) && (len(pub) == 0 || off(pub)) {
			add("vpcConfig", ruleEndpointAccess, "neither private nor public endpoint access is on (%s)", globalSource(ruleEndpointAccess))
		}
	}
}

func checkPorts(in resource.PropertyMap, protocol string, add addFunc) {
	from, okF := numberAt(in, "fromPort")
	to, okT := numberAt(in, "toPort")
	if (protocol == "tcp" || protocol == "udp" || protocol == "6" || protocol == "17") && okF && okT && from > to {
		add("fromPort", rulePortRange, "fromPort %g is above toPort %g (%s)", from, to, globalSource(rulePortRange))
	}
}

func checkSources(in resource.PropertyMap, keys []string, add addFunc) {
	var set []string
	for _, k := range keys {
		if v, ok := in[resource.PropertyKey(k)]; ok && !empty(v) {
			set = append(set, k)
		}
	}
	if len(set) != 1 {
		add(strings.Join(keys, "|"), ruleRuleSource, "%d sources %v; want exactly one (%s)", len(set), set, globalSource(ruleRuleSource))
	}
}

// checkWindows checks RDS's backup and maintenance windows: 30 minutes or
// more each, not overlapping.
func checkWindows(in resource.PropertyMap, add addFunc) {
	b, m := stringAt(in, "backupWindow"), stringAt(in, "maintenanceWindow")
	bs, be, okB := parseWindow(b, false)
	ms, me, okM := parseWindow(m, true)
	if okB && (be-bs+1440)%1440 < 30 {
		add("backupWindow", ruleRDSWindows, "%q is shorter than 30 minutes (%s)", b, globalSource(ruleRDSWindows))
	}
	if okM && (me-ms+10080)%10080 < 30 {
		add("maintenanceWindow", ruleRDSWindows, "%q is shorter than 30 minutes (%s)", m, globalSource(ruleRDSWindows))
	}
	if okB && okM {
		for day := 0; day < 7; day++ {
			s, e := day*1440+bs, day*1440+be
			if be < bs {
				e += 1440
			}
			if overlaps(s, e, ms, me) {
				add("backupWindow", ruleRDSWindows, "%q overlaps maintenanceWindow %q (%s)", b, m, globalSource(ruleRDSWindows))
				return
			}
		}
	}
}

var days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// parseWindow returns a window's start and end in minutes (of the day, or
// of the week when weekly).
func parseWindow(w string, weekly bool) (int, int, bool) {
	from, to, ok := strings.Cut(w, "-")
	if !ok {
		return 0, 0, false
	}
	at := func(s string) (int, bool) {
		off := 0
		if weekly {
			d, rest, ok := strings.Cut(s, ":")
			i := indexOf(days, d)
			if !ok || i < 0 {
				return 0, false
			}
			off, s = i*1440, rest
		}
		h, mm, ok := strings.Cut(s, ":")
		hi, err1 := strconv.Atoi(h)
		mi, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil {
			return 0, false
		}
		return off + hi*60 + mi, true
	}
	s, ok1 := at(from)
	e, ok2 := at(to)
	return s, e, ok1 && ok2
}

func overlaps(s1, e1, s2, e2 int) bool {
	if e2 < s2 {
		e2 += 10080
	}
	for _, shift := range []int{0, 10080, -10080} {
		if s1+shift < e2 && s2 < e1+shift {
			return true
		}
	}
	return false
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func globalSource(id string) string {
	for _, r := range globalRules {
		if r.ID == id {
			return r.Source
		}
	}
	return ""
}

// checkAcross checks the rules that span resources.
func checkAcross(records []Record, env Env) []Violation {
	var out []Violation
	add := func(r *Record, input, rule, format string, args ...any) {
		out = append(out, Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: input, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	byID := map[string]*Record{}
	for i := range records {
		if records[i].Custom {
			byID[records[i].ID] = &records[i]
		}
	}
	zoneOf := map[string]string{}
	subnetsByVpc := map[string][]*Record{}
	for i := range records {
		r := &records[i]
		if r.Type == "aws:ec2/subnet:Subnet" {
			zoneOf[r.ID] = stringAt(r.Inputs, "availabilityZone")
			vpc := stringAt(r.Inputs, "vpcId")
			subnetsByVpc[vpc] = append(subnetsByVpc[vpc], r)
		}
	}
	for id, s := range ExistingSubnets {
		zoneOf[id] = env.Region + s.Zone
	}
	for vpcID, subnets := range subnetsByVpc {
		var vpcNet *net.IPNet
		if vpc := byID[vpcID]; vpc != nil {
			_, vpcNet, _ = net.ParseCIDR(stringAt(vpc.Inputs, "cidrBlock"))
		}
		for i, s := range subnets {
			ip, n, err := net.ParseCIDR(stringAt(s.Inputs, "cidrBlock"))
			if err != nil {
				continue
			}
			if vpcNet != nil {
				ones, _ := n.Mask.Size()
				vones, _ := vpcNet.Mask.Size()
				if !vpcNet.Contains(ip) || ones < vones {
					add(s, "cidrBlock", ruleSubnetInVpc, "%s is not inside the VPC's %s (%s)", n, vpcNet, globalSource(ruleSubnetInVpc))
				}
			}
			for _, o := range subnets[:i] {
				oip, on, err := net.ParseCIDR(stringAt(o.Inputs, "cidrBlock"))
				if err == nil && (n.Contains(oip) || on.Contains(ip)) {
					add(s, "cidrBlock", ruleSubnetOverlap, "%s overlaps subnet %q (%s) (%s)", n, o.Name, on, globalSource(ruleSubnetOverlap))
				}
			}
		}
	}
	managed := map[string][]*Record{}
	inline := map[string]int{}
	familyOf := map[string]string{}
	for i := range records {
		r := &records[i]
		switch r.Type {
		case "aws:rds/subnetGroup:SubnetGroup":
			checkZones(r, "subnetIds", zoneOf, add)
		case "aws:eks/cluster:Cluster":
			checkZones(r, "vpcConfig.subnetIds", zoneOf, add)
		case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
			role := stringAt(r.Inputs, "role")
			managed[role] = append(managed[role], r)
		case "aws:iam/rolePolicy:RolePolicy":
			inline[stringAt(r.Inputs, "role")] += len(strings.Join(strings.Fields(stringAt(r.Inputs, "policy")), ""))
			if n := inline[stringAt(r.Inputs, "role")]; n > 10240 {
				add(r, "policy", ruleInlinePerRole, "the inline policies of role %q reach %d characters (%s)", stringAt(r.Inputs, "role"), n, globalSource(ruleInlinePerRole))
			}
		case "aws:rds/parameterGroup:ParameterGroup":
			familyOf[stringAt(r.Outputs, "name")] = stringAt(r.Inputs, "family")
		}
	}
	roles := make([]string, 0, len(managed))
	for role := range managed {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, role := range roles {
		if atts := managed[role]; len(atts) > managedPoliciesLimit {
			add(atts[len(atts)-1], "role", ruleManagedPerRole, "role %q gets %d managed policies (%s)", role, len(atts), globalSource(ruleManagedPerRole))
		}
	}
	for i := range records {
		r := &records[i]
		if r.Type != "aws:rds/instance:Instance" {
			continue
		}
		family, ok := familyOf[stringAt(r.Inputs, "parameterGroupName")]
		version := stringAt(r.Inputs, "engineVersion")
		if src := stringAt(r.Inputs, "replicateSourceDb"); version == "" && src != "" {
			for j := range records {
				if records[j].Type == r.Type && stringAt(records[j].Outputs, "identifier") == src {
					version = stringAt(records[j].Inputs, "engineVersion")
				}
			}
		}
		major, _, _ := strings.Cut(version, ".")
		if ok && version != "" && family != "postgres"+major {
			add(r, "parameterGroupName", ruleParameterFamily, "parameter group family %s does not match engine version %s (%s)", family, version, globalSource(ruleParameterFamily))
		}
	}
	out = append(out, checkAccessEntries(records, env)...)
	out = append(out, checkMappedAttributes(records)...)
	out = append(out, checkSnapshots(records)...)
	out = append(out, checkServiceAccess(records, env)...)
	out = append(out, checkPreviewReads(records, env)...)
	return out
}

// checkSnapshots reports two snapshots of one instance that Pulumi would
// request at once: neither waits, directly or not, for the other.
func checkSnapshots(records []Record) []Violation {
	waits := waitGraph(records)
	byInstance := map[string][]*Record{}
	for i := range records {
		if r := &records[i]; r.Type == "aws:rds/snapshot:Snapshot" {
			id := stringAt(r.Inputs, "dbInstanceIdentifier")
			byInstance[id] = append(byInstance[id], r)
		}
	}
	var out []Violation
	for id, snaps := range byInstance {
		for i, a := range snaps {
			for _, b := range snaps[i+1:] {
				if !waits(a.URN, b.URN) && !waits(b.URN, a.URN) {
					out = append(out, Violation{URN: b.URN, Type: b.Type, Name: b.Name, Input: "dbInstanceIdentifier", Rule: ruleOneSnapshot,
						Message: fmt.Sprintf("snapshot %s of instance %s is requested at the same time as %s, and RDS takes one snapshot of an instance at a time: make one depend on the other (%s)", b.Name, id, a.Name, globalSource(ruleOneSnapshot))})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// waitGraph returns whether resource a waits, directly or not, for b, as
// Pulumi's engine orders them: through dependsOn and the inputs' sources,
// where waiting for a component means waiting for all its descendants.
func waitGraph(records []Record) func(a, b string) bool {
	children := map[string][]string{}
	byURN := map[string]*Record{}
	for i := range records {
		r := &records[i]
		byURN[r.URN] = r
		children[r.Parent] = append(children[r.Parent], r.URN)
	}
	var expand func(urn string, into map[string]bool)
	expand = func(urn string, into map[string]bool) {
		if into[urn] {
			return
		}
		into[urn] = true
		if r := byURN[urn]; r != nil && !r.Custom {
			for _, c := range children[urn] {
				expand(c, into)
			}
		}
	}
	direct := func(r *Record) map[string]bool {
		out := map[string]bool{}
		for _, d := range r.Dependencies {
			expand(d, out)
		}
		for _, ds := range r.PropertyDependencies {
			for _, d := range ds {
				expand(d, out)
			}
		}
		return out
	}
	memo := map[string]map[string]bool{}
	var closure func(urn string) map[string]bool
	closure = func(urn string) map[string]bool {
		if m, ok := memo[urn]; ok {
			return m
		}
		all := map[string]bool{}
		memo[urn] = all // a cycle ends here
		if r := byURN[urn]; r != nil {
			for d := range direct(r) {
				all[d] = true
				for dd := range closure(d) {
					all[dd] = true
				}
			}
		}
		return all
	}
	return func(a, b string) bool { return closure(a)[b] }
}

// checkZones reports a subnet list that spans fewer than two zones.
func checkZones(r *Record, path string, zoneOf map[string]string, add func(*Record, string, string, string, ...any)) {
	zones := map[string]bool{}
	ids := stringsAt(r.Inputs, path)
	for _, id := range ids {
		if z := zoneOf[id]; z != "" {
			zones[z] = true
		} else {
			add(r, path, ruleTwoZones, "subnet %q is neither planned nor in the account (InvalidSubnetID.NotFound)", id)
		}
	}
	if len(zones) < 2 {
		add(r, path, ruleTwoZones, "%d subnets in %d zones; want subnets in at least two zones (%s)", len(ids), len(zones), globalSource(ruleTwoZones))
	}
}

// checkAccessEntries reports a principal that would get two access entries
// on one cluster: the program's own, pulumi-eks's, and those EKS creates by
// itself for managed node group roles and for the cluster's creator.
func checkAccessEntries(records []Record, env Env) []Violation {
	var out []Violation
	type entry struct {
		r   *Record
		why string
	}
	seen := map[string]entry{}
	note := func(cluster, principal string, e entry) {
		k := cluster + " " + principal
		if prev, ok := seen[k]; ok {
			out = append(out, Violation{URN: e.r.URN, Type: e.r.Type, Name: e.r.Name, Input: "principalArn", Rule: ruleAccessEntryOnce,
				Message: fmt.Sprintf("%s already has an access entry on cluster %s (%s); EKS refuses a second (%s)", principal, cluster, prev.why, globalSource(ruleAccessEntryOnce))})
			return
		}
		seen[k] = e
	}
	for i := range records {
		r := &records[i]
		switch r.Type {
		case "aws:eks/cluster:Cluster":
			if v := lookup(r.Inputs, "accessConfig.bootstrapClusterCreatorAdminPermissions"); len(v) > 0 && unwrap(v[0].v).IsBool() && unwrap(v[0].v).BoolValue() && env.Caller != "" {
				note(stringAt(r.Outputs, "name"), env.Caller, entry{r, "EKS creates it for the cluster's creator, as bootstrapClusterCreatorAdminPermissions is true"})
			}
		case "aws:eks/nodeGroup:NodeGroup":
			note(stringAt(r.Inputs, "clusterName"), stringAt(r.Inputs, "nodeRoleArn"), entry{r, "EKS creates it for the managed node group's role"})
		}
	}
	for i := range records {
		r := &records[i]
		if r.Type == "aws:eks/accessEntry:AccessEntry" {
			note(stringAt(r.Inputs, "clusterName"), stringAt(r.Inputs, "principalArn"), entry{r, "access entry " + strconv.Quote(r.Name)})
		}
	}
	return out
}

// checkMappedAttributes reports an app client that signs users in through
// an identity provider but may not write an attribute the provider's
// mapping fills: Cognito then fails every federated sign-in.
func checkMappedAttributes(records []Record) []Violation {
	mapped := map[string][]string{} // provider name -> pool attributes it fills
	for i := range records {
		r := &records[i]
		if r.Type != "aws:cognito/identityProvider:IdentityProvider" {
			continue
		}
		if m, ok := r.Inputs["attributeMapping"]; ok && m.IsObject() {
			for k := range m.ObjectValue() {
				if string(k) != "username" {
					mapped[stringAt(r.Inputs, "providerName")] = append(mapped[stringAt(r.Inputs, "providerName")], string(k))
				}
			}
		}
	}
	var out []Violation
	for i := range records {
		r := &records[i]
		if r.Type != "aws:cognito/userPoolClient:UserPoolClient" {
			continue
		}
		writable := map[string]bool{}
		explicit := false
		if v, ok := r.Inputs["writeAttributes"]; ok && v.IsArray() {
			explicit = true
			for _, a := range stringsAt(r.Inputs, "writeAttributes") {
				writable[a] = true
			}
		}
		for _, p := range stringsAt(r.Inputs, "supportedIdentityProviders") {
			attrs := mapped[p]
			sort.Strings(attrs)
			for _, a := range attrs {
				if explicit && writable[a] || !explicit && !strings.HasPrefix(a, "custom:") {
					continue
				}
				out = append(out, Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: "writeAttributes", Rule: ruleMappedAttributes,
					Message: fmt.Sprintf("users sign in through %s, whose attribute mapping fills %s, which this client may not write: Cognito fails their sign-in (%s)", p, a, globalSource(ruleMappedAttributes))})
			}
		}
	}
	return out
}
