package mocks

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// nameRule is how one AWS resource type is named: the input that holds its
// physical name, how Pulumi names it when the program leaves that input
// empty, and what AWS accepts.
//
// Sources, cited per row in source:
//   - AWS: the service's API reference for the create call (the same limits
//     are in the AWS SDK's API models, models/apis/<service>/*/api-2.json).
//   - TF: the upstream terraform-provider-aws validation that pulumi-aws
//     runs before any API call (internal/service/<service>/...).
//   - pulumi-aws: provider/resources.go, which sets auto-naming per type: by
//     default the logical name, "-" and 7 random hex characters, at most 255
//     characters, and an error (not truncation) when that is too long
//     (pulumi-terraform-bridge info.ComputeAutoNameDefault and
//     sdk/go/common/resource.NewUniqueName). A name prefix gets a 26-character
//     suffix instead (terraform create.PrefixedUniqueId: a timestamp and a
//     counter).
type nameRule struct {
	// prop holds the physical name; prefixProp a name prefix ("" when none).
	prop, prefixProp string
	// auto is Pulumi's auto-naming of prop; nil when the program must set it.
	auto *autoName
	// min and max bound the length; pattern is the allowed form; allowed
	// says it in words for the message.
	min, max int
	pattern  *regexp.Regexp
	allowed  string
	// extra reports further rules of the service ("" when the name passes).
	extra  func(string) string
	source string
}

// autoName is pulumi-aws's auto-naming of a type.
type autoName struct {
	// sep goes between the logical name and the random part ("" for RDS).
	sep string
	// maxLen is the longest name Pulumi generates; beyond it Pulumi fails.
	maxLen int
	// lower lowercases the logical name first (S3 buckets).
	lower bool
	// prefix is put in front (KMS aliases get "alias/").
	prefix string
}

var (
	std255      = &autoName{sep: "-", maxLen: 255}
	iamChars    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	logsChars   = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)
	eventChars  = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)
	cognitoName = regexp.MustCompile(`^[\w\s+=,.@-]+$`)
	sgChars     = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$`)
	rdsIdent    = regexp.MustCompile(`^[a-z](?:-?[a-z0-9])*$`)
	snapIdent   = regexp.MustCompile(`^[A-Za-z](?:-?[A-Za-z0-9])*$`)
	eksName     = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]*$`)
	bucketName  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	ecrName     = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ipv4Name    = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
)

// nameRules are the naming rules of every AWS type the platform creates
// that has a physical name.
var nameRules = map[string]nameRule{
	"aws:iam/role:Role": {prop: "name", prefixProp: "namePrefix", auto: &autoName{sep: "-", maxLen: 64},
		min: 1, max: 64, pattern: iamChars, allowed: "letters, digits and + = , . @ _ -",
		source: "IAM CreateRole RoleName; TF iam/validate.go validResourceName; pulumi-aws aws_iam_role AutoName(64)"},
	"aws:iam/policy:Policy": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 128, pattern: iamChars, allowed: "letters, digits and + = , . @ _ -",
		source: "IAM CreatePolicy PolicyName; TF iam/policy.go"},
	"aws:iam/rolePolicy:RolePolicy": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 128, pattern: iamChars, allowed: "letters, digits and + = , . @ _ -",
		source: "IAM PutRolePolicy PolicyName; TF iam/role_policy.go"},
	"aws:cloudwatch/logGroup:LogGroup": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 512, pattern: logsChars, allowed: "letters, digits and . - _ / #",
		source: "CloudWatch Logs CreateLogGroup logGroupName; TF logs/validate.go"},
	"aws:cloudwatch/eventRule:EventRule": {prop: "name", prefixProp: "namePrefix", auto: &autoName{sep: "-", maxLen: 64},
		min: 1, max: 64, pattern: eventChars, allowed: "letters, digits and . - _",
		source: "EventBridge PutRule Name; TF events/validate.go; pulumi-aws aws_cloudwatch_event_rule AutoName(64)"},
	"aws:cloudwatch/eventTarget:EventTarget": {prop: "targetId", auto: std255,
		min: 1, max: 64, pattern: eventChars, allowed: "letters, digits and . - _",
		source: "EventBridge PutTargets Target.Id; TF events/validate.go validTargetID"},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {prop: "name", auto: std255,
		min: 1, max: 255, pattern: regexp.MustCompile(`^[^\x00-\x1f\x7f]+$`), allowed: "no control characters",
		source: "CloudWatch PutMetricAlarm AlarmName"},
	"aws:ec2/securityGroup:SecurityGroup": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 255, pattern: sgChars, allowed: "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
		extra: func(s string) string {
			if strings.HasPrefix(s, "sg-") {
				return `must not start with "sg-"`
			}
			return ""
		},
		source: "EC2 CreateSecurityGroup GroupName; TF ec2/vpc_security_group.go"},
	"aws:ec2/launchTemplate:LaunchTemplate": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 3, max: 125, pattern: regexp.MustCompile(`^[0-9A-Za-z()./_-]+$`), allowed: "letters, digits and ( ) . / _ -",
		source: "EC2 CreateLaunchTemplate LaunchTemplateName (3 to 128); TF verify/validate.go ValidLaunchTemplateName (125)"},
	"aws:sqs/queue:Queue": {prop: "name", prefixProp: "namePrefix", auto: &autoName{sep: "-", maxLen: 80},
		min: 1, max: 80, pattern: regexp.MustCompile(`^[A-Za-z0-9_-]+$`), allowed: "letters, digits, hyphens and underscores",
		source: "SQS CreateQueue QueueName; TF sqs/queue.go"},
	"aws:rds/instance:Instance": {prop: "identifier", prefixProp: "identifierPrefix", auto: &autoName{maxLen: 255},
		min: 1, max: 63, pattern: rdsIdent, allowed: "lowercase letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
		source: "RDS CreateDBInstance DBInstanceIdentifier; TF rds/validate.go validIdentifier; pulumi-aws aws_db_instance NewUniqueHex(name, 7, 255)"},
	"aws:rds/subnetGroup:SubnetGroup": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 255, pattern: regexp.MustCompile(`^[a-z][0-9a-z_ .-]*$`), allowed: "lowercase letters, digits, spaces and . _ -, starting with a letter",
		extra: func(s string) string {
			if strings.EqualFold(s, "default") {
				return `must not be "default"`
			}
			return ""
		},
		source: "RDS CreateDBSubnetGroup DBSubnetGroupName; TF rds/validate.go validSubnetGroupName"},
	"aws:rds/parameterGroup:ParameterGroup": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 255, pattern: rdsIdent, allowed: "lowercase letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
		source: "RDS CreateDBParameterGroup DBParameterGroupName; TF rds/validate.go validParamGroupName"},
	"aws:rds/snapshot:Snapshot": {prop: "dbSnapshotIdentifier",
		min: 1, max: 255, pattern: snapIdent, allowed: "letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
		source: "RDS CreateDBSnapshot DBSnapshotIdentifier"},
	"aws:s3/bucketV2:BucketV2": {prop: "bucket", prefixProp: "bucketPrefix", auto: &autoName{sep: "-", maxLen: 63, lower: true},
		min: 3, max: 63, pattern: bucketName, allowed: "lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
		extra:  bucketExtra,
		source: "S3 bucket naming rules (userguide/bucketnamingrules.html); TF s3/bucket.go; pulumi-aws aws_s3_bucket AutoNameTransform(63, lowercase)"},
	"aws:secretsmanager/secret:Secret": {prop: "name", prefixProp: "namePrefix", auto: std255,
		min: 1, max: 512, pattern: regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`), allowed: "letters, digits and / _ + = . @ -",
		source: "Secrets Manager CreateSecret Name; TF secretsmanager/validate.go"},
	"aws:cloudtrail/trail:Trail": {prop: "name", auto: std255,
		min: 3, max: 128, pattern: regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|[._-][A-Za-z0-9])*$`),
		allowed: "letters, digits and . _ -, starting and ending with a letter or digit, no two of . _ - side by side",
		extra: func(s string) string {
			if net.ParseIP(s) != nil {
				return "must not be an IP address"
			}
			return ""
		},
		source: "CloudTrail CreateTrail Name (APIReference/API_CreateTrail.html); TF cloudtrail/trail.go validateTrailName"},
	"aws:cognito/userPool:UserPool": {prop: "name", auto: std255,
		min: 1, max: 128, pattern: cognitoName, allowed: "letters, digits, spaces and _ + = , . @ -",
		source: "Cognito CreateUserPool PoolName; TF cognitoidp/user_pool.go validUserPoolName"},
	"aws:cognito/userPoolClient:UserPoolClient": {prop: "name",
		min: 1, max: 128, pattern: cognitoName, allowed: "letters, digits, spaces and _ + = , . @ -",
		source: "Cognito CreateUserPoolClient ClientName"},
	"aws:cognito/userGroup:UserGroup": {prop: "name",
		min: 1, max: 128, pattern: regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`), allowed: "letters, marks, symbols, digits and punctuation, no spaces",
		source: "Cognito CreateGroup GroupName"},
	"aws:cognito/userPoolDomain:UserPoolDomain": {prop: "domain",
		min: 1, max: 63, pattern: regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`), allowed: "lowercase letters, digits and hyphens, not starting or ending with a hyphen",
		extra: func(s string) string {
			for _, w := range []string{"aws", "amazon", "cognito"} {
				if strings.Contains(s, w) {
					return fmt.Sprintf("must not contain the reserved word %q", w)
				}
			}
			return ""
		},
		source: "Cognito CreateUserPoolDomain Domain; developer guide: a prefix domain may not contain aws, amazon or cognito"},
	"aws:sns/topic:Topic": {prop: "name", prefixProp: "namePrefix", auto: &autoName{sep: "-", maxLen: 80},
		min: 1, max: 256, pattern: regexp.MustCompile(`^[A-Za-z0-9_-]+$`), allowed: "letters, digits, hyphens and underscores",
		source: "SNS CreateTopic Name; TF sns/topic.go; pulumi-aws aws_sns_topic AutoName(80)"},
	"aws:kms/alias:Alias": {prop: "name", prefixProp: "namePrefix", auto: &autoName{sep: "-", maxLen: 238, prefix: "alias/"},
		min: 1, max: 256, pattern: regexp.MustCompile(`^alias/[0-9A-Za-z_/-]+$`), allowed: `"alias/" then letters, digits and _ / -`,
		extra: func(s string) string {
			if strings.HasPrefix(s, "alias/aws/") {
				return `must not start with "alias/aws/" (reserved for AWS managed keys)`
			}
			return ""
		},
		source: "KMS CreateAlias AliasName; TF kms/validate.go validNameForResource"},
	"aws:eks/cluster:Cluster": {prop: "name", auto: std255,
		min: 1, max: 100, pattern: eksName, allowed: "letters, digits, hyphens and underscores, starting with a letter or digit",
		source: "EKS CreateCluster name; TF eks/validate.go validClusterName"},
	"aws:eks/nodeGroup:NodeGroup": {prop: "nodeGroupName", prefixProp: "nodeGroupNamePrefix", auto: std255,
		min: 1, max: 63, pattern: eksName, allowed: "letters, digits, hyphens and underscores, starting with a letter or digit",
		source: "EKS CreateNodegroup nodegroupName; TF eks/node_group.go (63)"},
	"aws:ecr/repository:Repository": {prop: "name", auto: std255,
		min: 2, max: 256, pattern: ecrName, allowed: "lowercase path segments of letters and digits separated by . _ -",
		source: "ECR CreateRepository repositoryName"},
	"aws:efs/fileSystem:FileSystem": {prop: "creationToken", auto: std255,
		min: 1, max: 64, pattern: regexp.MustCompile(`^[\x20-\x7e]+$`), allowed: "printable ASCII",
		source: "EFS CreateFileSystem CreationToken; TF efs/file_system.go"},
}

// secondaryNames are further inputs that AWS checks as names.
var secondaryNames = map[string]map[string]nameRule{
	"aws:rds/instance:Instance": {
		"finalSnapshotIdentifier": {min: 1, max: 255, pattern: snapIdent, allowed: "letters, digits and single hyphens, starting with a letter, not ending with a hyphen",
			source: "RDS DeleteDBInstance FinalDBSnapshotIdentifier; TF rds/instance.go"},
		"dbName": {min: 1, max: 63, pattern: regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`), allowed: "letters, digits and underscores, starting with a letter (PostgreSQL)",
			source: "RDS CreateDBInstance DBName (PostgreSQL)"},
		"username": {min: 1, max: 63, pattern: regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`), allowed: "letters, digits and underscores, starting with a letter",
			extra: func(s string) string {
				switch strings.ToLower(s) {
				case "rdsadmin", "postgres", "admin", "root", "rdsrepladmin", "rds_superuser":
					return "is reserved by RDS for PostgreSQL"
				}
				return ""
			},
			source: "RDS CreateDBInstance MasterUsername (PostgreSQL: 1 to 63, reserved words refused)"},
	},
	"aws:ec2/securityGroup:SecurityGroup": {
		"description": {min: 1, max: 255, pattern: sgChars, allowed: "ASCII letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
			source: "EC2 CreateSecurityGroup GroupDescription"},
	},
	"aws:iam/role:Role": {
		"description": {min: 0, max: 1000, pattern: regexp.MustCompile(`^[\x{09}\x{0A}\x{0D}\x{20}-\x{7E}\x{A1}-\x{FF}]*$`), allowed: "Latin-1 printable characters",
			source: "IAM CreateRole Description"},
	},
}

// bucketExtra holds S3's rules beyond the pattern.
func bucketExtra(s string) string {
	switch {
	case strings.Contains(s, ".."):
		return "must not contain two adjacent periods"
	case ipv4Name.MatchString(s) || net.ParseIP(s) != nil:
		return "must not be formatted as an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			return fmt.Sprintf("must not start with %q", p)
		}
	}
	for _, suf := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, suf) {
			return fmt.Sprintf("must not end with %q", suf)
		}
	}
	return ""
}

// physicalName returns the name AWS would see for a resource of typ: the
// name the program set, or the one Pulumi or the provider generates from a
// prefix or from the logical name. h seeds the random part. generated says
// which of the three it is ("" when set by the program).
func physicalName(typ, logical string, get func(string) string, h string) (name, generated string) {
	rule, ok := nameRules[typ]
	if !ok {
		return "", ""
	}
	if v := get(rule.prop); v != "" {
		return v, ""
	}
	if rule.prefixProp != "" {
		if p := get(rule.prefixProp); p != "" {
			// terraform's PrefixedUniqueId: a UTC timestamp to 1/10000 s
			// and an 8-hex counter, 26 characters in all.
			return p + "2026113012000000" + "00" + h[:8], "from " + rule.prefixProp + " plus the provider's 26-character suffix"
		}
	}
	a := rule.auto
	if a == nil {
		return "", ""
	}
	base := logical
	if a.lower {
		base = strings.ToLower(base)
	}
	return a.prefix + base + a.sep + h[:7], fmt.Sprintf("auto-named by Pulumi from the logical name %q", logical)
}

// checkName reports what AWS (or Pulumi's auto-naming) refuses about name.
func checkName(rule nameRule, name string) string {
	switch {
	case len(name) < rule.min || len(name) > rule.max:
		if rule.min == rule.max {
			return fmt.Sprintf("is %d characters; want exactly %d", len(name), rule.max)
		}
		return fmt.Sprintf("is %d characters; want %d to %d", len(name), rule.min, rule.max)
	case name != "" && !rule.pattern.MatchString(name):
		return "want " + rule.allowed
	case rule.extra != nil:
		return rule.extra(name)
	}
	return ""
}
