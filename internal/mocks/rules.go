package mocks

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dataplatform/dataplatform/verify"
)

// inputRule is one check AWS makes of an input when a resource is created.
type inputRule struct {
	typ, path string
	// check returns what is wrong with v ("" when AWS accepts it).
	check  func(v resource.PropertyValue) string
	source string
}

// requiredRule names inputs AWS needs (present and not empty), when
// applies says so for the resource's inputs (nil: always).
type requiredRule struct {
	typ     string
	paths   []string
	applies func(in resource.PropertyMap) bool
	source  string
}

// RuleInfo describes one rule of the fake AWS, for documentation and for
// tests that prove each rule refuses a broken input.
type RuleInfo struct {
	// ID is what Violation.Rule holds.
	ID string
	// Type is the resource type the rule applies to ("aws:*" for every AWS type).
	Type string
	// Input is the checked input path.
	Input string
	// Source is where the limit comes from.
	Source string
}

func oneOf(allowed ...string) func(resource.PropertyValue) string {
	return func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsString() && slices.Contains(allowed, v.StringValue()) {
			return ""
		}
		return fmt.Sprintf("%s is not one of %s", show(v), strings.Join(allowed, ", "))
	}
}

func oneOfNum(allowed ...float64) func(resource.PropertyValue) string {
	return func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsNumber() && slices.Contains(allowed, v.NumberValue()) {
			return ""
		}
		s := make([]string, len(allowed))
		for i, a := range allowed {
			s[i] = strconv.FormatFloat(a, 'f', -1, 64)
		}
		return fmt.Sprintf("%s is not one of %s", show(v), strings.Join(s, ", "))
	}
}

func between(lo, hi float64) func(resource.PropertyValue) string {
	return func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsNumber() && v.NumberValue() >= lo && v.NumberValue() <= hi && v.NumberValue() == math.Trunc(v.NumberValue()) {
			return ""
		}
		return fmt.Sprintf("%s is not a whole number from %g to %g", show(v), lo, hi)
	}
}

func matches(re *regexp.Regexp, what string) func(resource.PropertyValue) string {
	return func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsString() && re.MatchString(v.StringValue()) {
			return ""
		}
		return fmt.Sprintf("%s is not %s", show(v), what)
	}
}

func cidr(minBits, maxBits int) func(resource.PropertyValue) string {
	return func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsString() {
			if ip, n, err := net.ParseCIDR(v.StringValue()); err == nil && ip.To4() != nil && n.IP.Equal(ip) {
				if ones, _ := n.Mask.Size(); ones >= minBits && ones <= maxBits {
					return ""
				}
			}
		}
		return fmt.Sprintf("%s is not an IPv4 network address with a prefix from /%d to /%d", show(v), minBits, maxBits)
	}
}

func validJSON(v resource.PropertyValue) string {
	v = unwrap(v)
	if v.IsString() && json.Valid([]byte(v.StringValue())) {
		return ""
	}
	return fmt.Sprintf("%s is not a JSON document", show(v))
}

// show renders a value for a message.
func show(v resource.PropertyValue) string {
	v = unwrap(v)
	switch {
	case v.IsString():
		return strconv.Quote(v.StringValue())
	case v.IsNumber():
		return strconv.FormatFloat(v.NumberValue(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.BoolValue())
	case v.IsNull():
		return "null"
	}
	b, _ := json.Marshal(v.Mappable())
	return string(b)
}

var (
	logRetention = []float64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	// amiTypes are EKS's AMITypes; the ARM ones need Graviton instances.
	amiTypes = []string{"AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "CUSTOM", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64",
		"BOTTLEROCKET_ARM_64_FIPS", "BOTTLEROCKET_x86_64_FIPS", "BOTTLEROCKET_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA",
		"WINDOWS_CORE_2019_x86_64", "WINDOWS_FULL_2019_x86_64", "WINDOWS_CORE_2022_x86_64", "WINDOWS_FULL_2022_x86_64",
		"AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NEURON", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA"}
	controlPlaneLogs = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	sgProtocol       = regexp.MustCompile(`^(tcp|udp|icmp|icmpv6|-1|all|\d{1,3})$`)
	instanceClass    = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	addonVersion     = regexp.MustCompile(`^v\d+\.\d+\.\d+-eksbuild\.\d+$`)
	window           = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$`)
	weeklyWindow     = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$`)
	accessPolicy     = regexp.MustCompile(`^arn:aws:eks::aws:cluster-access-policy/[A-Za-z0-9]+$`)
	iamPrincipal     = regexp.MustCompile(`^arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]+$`)
	thumbprint       = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
	email            = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	kubernetesVer    = regexp.MustCompile(`^1\.\d{2}$`)
	pgEngineVersion  = regexp.MustCompile(`^\d{2}(\.\d+)?$`)
	https            = regexp.MustCompile(`^https://[^?#\s]+$`)
)

// inputRules are the enumerations and ranges AWS checks on the inputs the
// platform sets. Sources: the AWS API reference of each create call (the
// enums are in the AWS SDK's API models), unless the row says otherwise.
var inputRules = []inputRule{
	{"aws:cloudwatch/logGroup:LogGroup", "retentionInDays", oneOfNum(logRetention...), "CloudWatch Logs PutRetentionPolicy retentionInDays"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "comparisonOperator", oneOf("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"), "CloudWatch PutMetricAlarm ComparisonOperator"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "statistic", oneOf("SampleCount", "Average", "Sum", "Minimum", "Maximum"), "CloudWatch PutMetricAlarm Statistic"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "period", func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsNumber() && (slices.Contains([]float64{10, 20, 30}, v.NumberValue()) || (v.NumberValue() >= 60 && math.Mod(v.NumberValue(), 60) == 0)) {
			return ""
		}
		return fmt.Sprintf("%s is not 10, 20, 30 or a multiple of 60 seconds", show(v))
	}, "CloudWatch PutMetricAlarm Period"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "evaluationPeriods", between(1, 100000), "CloudWatch PutMetricAlarm EvaluationPeriods"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "treatMissingData", oneOf("breaching", "notBreaching", "ignore", "missing"), "CloudWatch PutMetricAlarm TreatMissingData"},
	{"aws:cloudwatch/eventRule:EventRule", "eventPattern", validJSON, "EventBridge PutRule EventPattern"},
	{"aws:ec2/eip:Eip", "domain", oneOf("vpc", "standard"), "EC2 AllocateAddress Domain"},
	{"aws:ec2/flowLog:FlowLog", "trafficType", oneOf("ACCEPT", "REJECT", "ALL"), "EC2 CreateFlowLogs TrafficType"},
	{"aws:ec2/flowLog:FlowLog", "logDestinationType", oneOf("cloud-watch-logs", "s3", "kinesis-data-firehose"), "EC2 CreateFlowLogs LogDestinationType"},
	{"aws:ec2/flowLog:FlowLog", "maxAggregationInterval", oneOfNum(60, 600), "EC2 CreateFlowLogs MaxAggregationInterval"},
	{"aws:ec2/instance:Instance", "metadataOptions.httpTokens", oneOf("optional", "required"), "EC2 InstanceMetadataOptionsRequest HttpTokens"},
	{"aws:ec2/instance:Instance", "creditSpecification.cpuCredits", oneOf("standard", "unlimited"), "EC2 CreditSpecificationRequest CpuCredits"},
	{"aws:ec2/instance:Instance", "rootBlockDevice.volumeType", oneOf("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"), "EC2 EbsBlockDevice VolumeType"},
	{"aws:ec2/instance:Instance", "maintenanceOptions.autoRecovery", oneOf("default", "disabled"), "EC2 InstanceMaintenanceOptionsRequest AutoRecovery"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpTokens", oneOf("optional", "required"), "EC2 LaunchTemplateInstanceMetadataOptionsRequest HttpTokens"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpEndpoint", oneOf("enabled", "disabled"), "EC2 LaunchTemplateInstanceMetadataOptionsRequest HttpEndpoint"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpPutResponseHopLimit", between(1, 64), "EC2 LaunchTemplateInstanceMetadataOptionsRequest HttpPutResponseHopLimit"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpProtocolIpv6", oneOf("enabled", "disabled"), "EC2 LaunchTemplateInstanceMetadataOptionsRequest HttpProtocolIpv6"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "blockDeviceMappings[].ebs.volumeType", oneOf("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"), "EC2 LaunchTemplateEbsBlockDeviceRequest VolumeType"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "blockDeviceMappings[].ebs.volumeSize", between(1, 16384), "EC2 LaunchTemplateEbsBlockDeviceRequest VolumeSize (gp3: 1 to 16,384 GiB)"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "tagSpecifications[].resourceType", oneOf("instance", "volume", "network-interface", "spot-instances-request"), "EC2 LaunchTemplateTagSpecificationRequest ResourceType (types a launch template may tag)"},
	{"aws:ec2/route:Route", "destinationCidrBlock", cidr(0, 32), "EC2 CreateRoute DestinationCidrBlock"},
	{"aws:ec2/vpc:Vpc", "cidrBlock", cidr(16, 28), "VPC CreateVpc CidrBlock (/16 to /28)"},
	{"aws:ec2/subnet:Subnet", "cidrBlock", cidr(16, 28), "VPC CreateSubnet CidrBlock (/16 to /28)"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "vpcEndpointType", oneOf("Interface", "Gateway", "GatewayLoadBalancer"), "EC2 CreateVpcEndpoint VpcEndpointType"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "ipProtocol", matches(sgProtocol, "tcp, udp, icmp, icmpv6, -1 or a protocol number"), "EC2 IpPermission IpProtocol"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "fromPort", between(-1, 65535), "EC2 IpPermission FromPort"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "toPort", between(-1, 65535), "EC2 IpPermission ToPort"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cidrIpv4", cidr(0, 32), "EC2 IpRange CidrIp"},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "type", oneOf("ingress", "egress"), "TF ec2/vpc_security_group_rule.go type"},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "protocol", matches(sgProtocol, "tcp, udp, icmp, icmpv6, -1 or a protocol number"), "EC2 IpPermission IpProtocol"},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "fromPort", between(-1, 65535), "EC2 IpPermission FromPort"},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "toPort", between(-1, 65535), "EC2 IpPermission ToPort"},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "cidrBlocks[]", cidr(0, 32), "EC2 IpRange CidrIp"},
	{"aws:ecr/repository:Repository", "imageTagMutability", oneOf("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"), "ECR CreateRepository imageTagMutability"},
	{"aws:ecr/repository:Repository", "encryptionConfigurations[].encryptionType", oneOf("AES256", "KMS", "KMS_DSSE"), "ECR EncryptionConfiguration encryptionType"},
	{"aws:ecr/lifecyclePolicy:LifecyclePolicy", "policy", validJSON, "ECR PutLifecyclePolicy lifecyclePolicyText"},
	{"aws:eks/accessEntry:AccessEntry", "type", oneOf("STANDARD", "EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"), "EKS CreateAccessEntry type"},
	{"aws:eks/accessEntry:AccessEntry", "principalArn", matches(iamPrincipal, "the ARN of an IAM role or user (an sts assumed-role ARN is refused)"), "EKS CreateAccessEntry principalArn"},
	{"aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "accessScope.type", oneOf("cluster", "namespace"), "EKS AccessScope type"},
	{"aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "policyArn", matches(accessPolicy, "an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/...)"), "EKS AssociateAccessPolicy policyArn"},
	{"aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "principalArn", matches(iamPrincipal, "the ARN of an IAM role or user"), "EKS AssociateAccessPolicy principalArn"},
	{"aws:eks/addon:Addon", "addonName", oneOf("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "aws-efs-csi-driver", "metrics-server", "amazon-cloudwatch-observability", "eks-pod-identity-agent", "aws-mountpoint-s3-csi-driver", "snapshot-controller", "adot", "aws-guardduty-agent", "eks-node-monitoring-agent"), "EKS DescribeAddonVersions (add-ons published by AWS)"},
	{"aws:eks/addon:Addon", "addonVersion", matches(addonVersion, "an add-on version such as v1.2.3-eksbuild.1"), "EKS DescribeAddonVersions addonVersion"},
	{"aws:eks/addon:Addon", "resolveConflictsOnCreate", oneOf("NONE", "OVERWRITE"), "EKS CreateAddon resolveConflicts (PRESERVE is for updates only)"},
	{"aws:eks/addon:Addon", "resolveConflictsOnUpdate", oneOf("NONE", "OVERWRITE", "PRESERVE"), "EKS UpdateAddon resolveConflicts"},
	{"aws:eks/addon:Addon", "configurationValues", validJSON, "EKS CreateAddon configurationValues (JSON or YAML; the platform writes JSON)"},
	{"aws:eks/nodeGroup:NodeGroup", "amiType", oneOf(amiTypes...), "EKS CreateNodegroup amiType (AMITypes)"},
	{"aws:eks/nodeGroup:NodeGroup", "capacityType", oneOf("ON_DEMAND", "SPOT", "CAPACITY_BLOCK"), "EKS CreateNodegroup capacityType"},
	{"aws:eks/nodeGroup:NodeGroup", "taints[].effect", oneOf("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"), "EKS Taint effect"},
	{"aws:eks/nodeGroup:NodeGroup", "scalingConfig.maxSize", between(1, 1000), "EKS NodegroupScalingConfig maxSize"},
	{"aws:eks/nodeGroup:NodeGroup", "scalingConfig.minSize", between(0, 1000), "EKS NodegroupScalingConfig minSize"},
	{"aws:eks/nodeGroup:NodeGroup", "updateConfig.maxUnavailable", between(1, 100), "EKS NodegroupUpdateConfig maxUnavailable"},
	{"aws:eks/cluster:Cluster", "version", matches(kubernetesVer, "a Kubernetes minor version such as 1.35"), "EKS CreateCluster version"},
	{"aws:eks/cluster:Cluster", "enabledClusterLogTypes[]", oneOf(controlPlaneLogs...), "EKS LogSetup types (LogType)"},
	{"aws:eks/cluster:Cluster", "accessConfig.authenticationMode", oneOf("API", "API_AND_CONFIG_MAP", "CONFIG_MAP"), "EKS CreateAccessConfigRequest authenticationMode"},
	{"aws:eks/cluster:Cluster", "vpcConfig.publicAccessCidrs[]", cidr(0, 32), "EKS VpcConfigRequest publicAccessCidrs"},
	{"aws:eks/cluster:Cluster", "encryptionConfig.resources[]", oneOf("secrets"), "EKS EncryptionConfig resources (only \"secrets\")"},
	{"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "url", matches(https, "an https URL without query or fragment"), "IAM CreateOpenIDConnectProvider Url"},
	{"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "thumbprintLists[]", matches(thumbprint, "a 40-character hex SHA-1 thumbprint"), "IAM CreateOpenIDConnectProvider ThumbprintList"},
	{"aws:kms/key:Key", "deletionWindowInDays", between(7, 30), "KMS ScheduleKeyDeletion PendingWindowInDays"},
	{"aws:rds/instance:Instance", "engine", oneOf("postgres"), "RDS CreateDBInstance Engine (the platform runs PostgreSQL)"},
	{"aws:rds/instance:Instance", "engineVersion", matches(pgEngineVersion, "a PostgreSQL version such as 17 or 17.6"), "RDS DescribeDBEngineVersions (PostgreSQL)"},
	{"aws:rds/instance:Instance", "instanceClass", matches(instanceClass, "a DB instance class such as db.t4g.micro"), "RDS CreateDBInstance DBInstanceClass"},
	{"aws:rds/instance:Instance", "storageType", oneOf("standard", "gp2", "gp3", "io1", "io2"), "RDS CreateDBInstance StorageType"},
	{"aws:rds/instance:Instance", "allocatedStorage", between(20, 65536), "RDS CreateDBInstance AllocatedStorage (PostgreSQL gp2/gp3: 20 to 65,536 GiB)"},
	{"aws:rds/instance:Instance", "maxAllocatedStorage", between(21, 65536), "RDS CreateDBInstance MaxAllocatedStorage"},
	{"aws:rds/instance:Instance", "backupRetentionPeriod", between(0, 35), "RDS CreateDBInstance BackupRetentionPeriod"},
	{"aws:rds/instance:Instance", "monitoringInterval", oneOfNum(0, 1, 5, 10, 15, 30, 60), "RDS CreateDBInstance MonitoringInterval"},
	{"aws:rds/instance:Instance", "performanceInsightsRetentionPeriod", func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsNumber() && (v.NumberValue() == 7 || v.NumberValue() == 731 || (v.NumberValue() <= 713 && math.Mod(v.NumberValue(), 31) == 0 && v.NumberValue() > 0)) {
			return ""
		}
		return fmt.Sprintf("%s is not 7, 731 or a multiple of 31 up to 713 days", show(v))
	}, "RDS CreateDBInstance PerformanceInsightsRetentionPeriod"},
	{"aws:rds/instance:Instance", "caCertIdentifier", oneOf("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"), "RDS certificate authorities (UsingWithRDS.SSL)"},
	{"aws:rds/instance:Instance", "port", between(1150, 65535), "RDS CreateDBInstance Port"},
	{"aws:rds/instance:Instance", "enabledCloudwatchLogsExports[]", oneOf("postgresql", "upgrade", "iam-db-auth-error"), "RDS log types of PostgreSQL (DescribeDBEngineVersions ExportableLogTypes)"},
	{"aws:rds/instance:Instance", "backupWindow", matches(window, "hh24:mi-hh24:mi (UTC)"), "RDS CreateDBInstance PreferredBackupWindow"},
	{"aws:rds/instance:Instance", "maintenanceWindow", matches(weeklyWindow, "ddd:hh24:mi-ddd:hh24:mi (UTC)"), "RDS CreateDBInstance PreferredMaintenanceWindow"},
	{"aws:rds/parameterGroup:ParameterGroup", "family", matches(regexp.MustCompile(`^postgres\d{2}$`), "a PostgreSQL parameter group family such as postgres17"), "RDS DescribeDBEngineVersions DBParameterGroupFamily"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "rules[].status", oneOf("Enabled", "Disabled"), "S3 LifecycleRule Status"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "rules[].expiration.days", between(1, 2147483647), "S3 LifecycleExpiration Days (a positive integer)"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "rules[].noncurrentVersionExpiration.noncurrentDays", between(1, 2147483647), "S3 NoncurrentVersionExpiration NoncurrentDays"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "rules[].abortIncompleteMultipartUpload.daysAfterInitiation", between(1, 2147483647), "S3 AbortIncompleteMultipartUpload DaysAfterInitiation"},
	{"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "rule.objectOwnership", oneOf("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"), "S3 OwnershipControlsRule ObjectOwnership"},
	{"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "rules[].applyServerSideEncryptionByDefault.sseAlgorithm", oneOf("AES256", "aws:kms", "aws:kms:dsse"), "S3 ServerSideEncryptionByDefault SSEAlgorithm"},
	{"aws:s3/bucketVersioningV2:BucketVersioningV2", "versioningConfiguration.status", oneOf("Enabled", "Suspended", "Disabled"), "S3 VersioningConfiguration Status (Disabled: never versioned)"},
	{"aws:s3/bucketPolicy:BucketPolicy", "policy", validJSON, "S3 PutBucketPolicy Policy"},
	{"aws:secretsmanager/secret:Secret", "recoveryWindowInDays", func(v resource.PropertyValue) string {
		v = unwrap(v)
		if v.IsNumber() && (v.NumberValue() == 0 || (v.NumberValue() >= 7 && v.NumberValue() <= 30)) {
			return ""
		}
		return fmt.Sprintf("%s is not 0 (delete at once) or 7 to 30 days", show(v))
	}, "Secrets Manager DeleteSecret RecoveryWindowInDays"},
	{"aws:sns/topicSubscription:TopicSubscription", "protocol", oneOf("email", "email-json", "http", "https", "sqs", "sms", "lambda", "firehose", "application"), "SNS Subscribe Protocol"},
	{"aws:sqs/queue:Queue", "messageRetentionSeconds", between(60, 1209600), "SQS CreateQueue MessageRetentionPeriod"},
	{"aws:efs/fileSystem:FileSystem", "performanceMode", oneOf("generalPurpose", "maxIO"), "EFS CreateFileSystem PerformanceMode"},
	{"aws:efs/fileSystem:FileSystem", "throughputMode", oneOf("bursting", "provisioned", "elastic"), "EFS CreateFileSystem ThroughputMode"},
	{"aws:cognito/userPool:UserPool", "mfaConfiguration", oneOf("OFF", "ON", "OPTIONAL"), "Cognito SetUserPoolMfaConfig MfaConfiguration"},
	{"aws:cognito/userPool:UserPool", "deletionProtection", oneOf("ACTIVE", "INACTIVE"), "Cognito CreateUserPool DeletionProtection"},
	{"aws:cognito/userPool:UserPool", "passwordPolicy.minimumLength", between(6, 99), "Cognito PasswordPolicyType MinimumLength"},
	{"aws:cognito/userPool:UserPool", "passwordPolicy.temporaryPasswordValidityDays", between(0, 365), "Cognito PasswordPolicyType TemporaryPasswordValidityDays"},
	{"aws:cognito/userPoolClient:UserPoolClient", "allowedOauthFlows[]", oneOf("code", "implicit", "client_credentials"), "Cognito CreateUserPoolClient AllowedOAuthFlows"},
	{"aws:cognito/userPoolClient:UserPoolClient", "callbackUrls[]", httpsOrLocalhost, "Cognito CreateUserPoolClient CallbackURLs: HTTPS, except http://localhost"},
	{"aws:cognito/userPoolClient:UserPoolClient", "logoutUrls[]", httpsOrLocalhost, "Cognito CreateUserPoolClient LogoutURLs: HTTPS, except http://localhost"},
}

// httpsOrLocalhost is Cognito's rule for redirect URLs.
func httpsOrLocalhost(v resource.PropertyValue) string {
	v = unwrap(v)
	if !v.IsString() || v.IsComputed() {
		return ""
	}
	s := v.StringValue()
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://localhost") {
		return ""
	}
	return fmt.Sprintf("%q is not an https URL (only http://localhost may be plain HTTP)", s)
}

// requiredRules are inputs without which AWS refuses the create call, as
// present and not empty (the SDKs only refuse nil).
var requiredRules = []requiredRule{
	{typ: "aws:iam/role:Role", paths: []string{"assumeRolePolicy"}, source: "IAM CreateRole AssumeRolePolicyDocument"},
	{typ: "aws:iam/policy:Policy", paths: []string{"policy"}, source: "IAM CreatePolicy PolicyDocument"},
	{typ: "aws:iam/rolePolicy:RolePolicy", paths: []string{"role", "policy"}, source: "IAM PutRolePolicy"},
	{typ: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", paths: []string{"role", "policyArn"}, source: "IAM AttachRolePolicy"},
	{typ: "aws:ec2/securityGroup:SecurityGroup", paths: []string{"vpcId"}, source: "EC2 CreateSecurityGroup VpcId (without it the group lands in the default VPC, which a new account may not have)"},
	{typ: "aws:ec2/subnet:Subnet", paths: []string{"vpcId", "cidrBlock", "availabilityZone"}, source: "VPC CreateSubnet"},
	{typ: "aws:ec2/instance:Instance", paths: []string{"ami", "instanceType", "subnetId"}, source: "EC2 RunInstances ImageId, InstanceType (the provider requires it), SubnetId (without it the instance lands in the default VPC)"},
	{typ: "aws:ec2/route:Route", paths: []string{"routeTableId"}, source: "EC2 CreateRoute RouteTableId"},
	{typ: "aws:ec2/natGateway:NatGateway", paths: []string{"subnetId", "allocationId"}, source: "VPC CreateNatGateway (public)"},
	{typ: "aws:ec2/vpcEndpoint:VpcEndpoint", paths: []string{"vpcId", "serviceName"}, source: "EC2 CreateVpcEndpoint"},
	{typ: "aws:ec2/vpcEndpoint:VpcEndpoint", paths: []string{"subnetIds", "securityGroupIds"}, source: "EC2 CreateVpcEndpoint: an Interface endpoint needs subnets and security groups",
		applies: func(in resource.PropertyMap) bool { return stringAt(in, "vpcEndpointType") == "Interface" }},
	{typ: "aws:ec2/vpcEndpoint:VpcEndpoint", paths: []string{"routeTableIds"}, source: "EC2 CreateVpcEndpoint: a Gateway endpoint needs route tables",
		applies: func(in resource.PropertyMap) bool { return stringAt(in, "vpcEndpointType") == "Gateway" }},
	{typ: "aws:ec2/flowLog:FlowLog", paths: []string{"logDestination", "iamRoleArn"}, source: "EC2 CreateFlowLogs: CloudWatch Logs needs a destination and a role",
		applies: func(in resource.PropertyMap) bool { return stringAt(in, "logDestinationType") == "cloud-watch-logs" }},
	{typ: "aws:eks/nodeGroup:NodeGroup", paths: []string{"clusterName", "nodeRoleArn", "subnetIds", "scalingConfig"}, source: "EKS CreateNodegroup"},
	{typ: "aws:eks/addon:Addon", paths: []string{"clusterName", "addonName"}, source: "EKS CreateAddon"},
	{typ: "aws:eks/cluster:Cluster", paths: []string{"roleArn", "vpcConfig.subnetIds"}, source: "EKS CreateCluster roleArn, resourcesVpcConfig.subnetIds"},
	{typ: "aws:eks/accessEntry:AccessEntry", paths: []string{"clusterName", "principalArn"}, source: "EKS CreateAccessEntry"},
	{typ: "aws:iam/openIdConnectProvider:OpenIdConnectProvider", paths: []string{"url", "clientIdLists"}, source: "IAM CreateOpenIDConnectProvider"},
	{typ: "aws:rds/instance:Instance", paths: []string{"instanceClass"}, source: "RDS CreateDBInstance DBInstanceClass"},
	{typ: "aws:rds/instance:Instance", paths: []string{"engine", "allocatedStorage", "dbSubnetGroupName"}, source: "RDS CreateDBInstance: a new instance needs its engine, storage and subnet group",
		applies: func(in resource.PropertyMap) bool { return stringAt(in, "replicateSourceDb") == "" }},
	{typ: "aws:rds/instance:Instance", paths: []string{"username"}, source: "RDS CreateDBInstance MasterUsername",
		applies: func(in resource.PropertyMap) bool { return stringAt(in, "replicateSourceDb") == "" }},
	{typ: "aws:rds/instance:Instance", paths: []string{"monitoringRoleArn"}, source: "RDS CreateDBInstance: enhanced monitoring (MonitoringInterval > 0) needs MonitoringRoleArn",
		applies: func(in resource.PropertyMap) bool {
			v, ok := in["monitoringInterval"]
			return ok && unwrap(v).IsNumber() && unwrap(v).NumberValue() > 0
		}},
	{typ: "aws:rds/instance:Instance", paths: []string{"finalSnapshotIdentifier"}, source: "RDS DeleteDBInstance: without SkipFinalSnapshot a final snapshot needs its identifier",
		applies: func(in resource.PropertyMap) bool {
			v, ok := in["skipFinalSnapshot"]
			return stringAt(in, "replicateSourceDb") == "" && !(ok && unwrap(v).IsBool() && unwrap(v).BoolValue())
		}},
	{typ: "aws:rds/subnetGroup:SubnetGroup", paths: []string{"subnetIds"}, source: "RDS CreateDBSubnetGroup SubnetIds"},
	{typ: "aws:rds/parameterGroup:ParameterGroup", paths: []string{"family"}, source: "RDS CreateDBParameterGroup DBParameterGroupFamily"},
	{typ: "aws:rds/snapshot:Snapshot", paths: []string{"dbInstanceIdentifier"}, source: "RDS CreateDBSnapshot DBInstanceIdentifier"},
	{typ: "aws:s3/bucketPolicy:BucketPolicy", paths: []string{"bucket", "policy"}, source: "S3 PutBucketPolicy"},
	{typ: "aws:kms/alias:Alias", paths: []string{"targetKeyId"}, source: "KMS CreateAlias TargetKeyId"},
	{typ: "aws:sqs/queuePolicy:QueuePolicy", paths: []string{"queueUrl", "policy"}, source: "SQS SetQueueAttributes Policy"},
	{typ: "aws:cloudwatch/eventTarget:EventTarget", paths: []string{"rule", "arn"}, source: "EventBridge PutTargets"},
	{typ: "aws:sns/topicSubscription:TopicSubscription", paths: []string{"topic", "protocol", "endpoint"}, source: "SNS Subscribe"},
	{typ: "aws:efs/mountTarget:MountTarget", paths: []string{"fileSystemId", "subnetId"}, source: "EFS CreateMountTarget"},
	{typ: "aws:cloudtrail/trail:Trail", paths: []string{"s3BucketName"}, source: "CloudTrail CreateTrail S3BucketName"},
}

// Rules lists every rule of the fake AWS.
func Rules() []RuleInfo {
	return slices.Clone(rules)
}

// rules are the fake AWS's rules, made once.
var rules = makeRules()

func init() {
	for _, r := range rules {
		verify.Register(verify.Rule{ID: r.ID, Kind: verify.Refusal, Front: "fake AWS", Applies: r.Type + " " + r.Input, Source: r.Source})
	}
}

func makeRules() []RuleInfo {
	var out []RuleInfo
	for typ, r := range nameRules {
		out = append(out, RuleInfo{ID: "name/" + typ, Type: typ, Input: r.prop, Source: r.source})
	}
	for typ, props := range secondaryNames {
		for prop, r := range props {
			out = append(out, RuleInfo{ID: "name/" + typ + "/" + prop, Type: typ, Input: prop, Source: r.source})
		}
	}
	for _, r := range inputRules {
		out = append(out, RuleInfo{ID: inputRuleID(r.typ, r.path), Type: r.typ, Input: r.path, Source: r.source})
	}
	for i, r := range requiredRules {
		out = append(out, RuleInfo{ID: requiredRuleID(i), Type: r.typ, Input: strings.Join(r.paths, ", "), Source: r.source})
	}
	out = append(out, globalRules...)
	out = append(out, accessRules...)
	slices.SortFunc(out, func(a, b RuleInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func inputRuleID(typ, path string) string { return "input/" + typ + "/" + path }

func requiredRuleID(i int) string {
	r := requiredRules[i]
	id := "required/" + r.typ + "/" + strings.Join(r.paths, ",")
	if r.applies != nil {
		id += "/when"
	}
	return id
}

// checkInputs applies inputRules and requiredRules to r.
func checkInputs(r *Record, env Env, add addFunc) {
	for _, rule := range inputRules {
		if rule.typ != r.Type {
			continue
		}
		for _, f := range lookup(r.Inputs, rule.path) {
			if msg := rule.check(f.v); msg != "" {
				add(f.path, inputRuleID(rule.typ, rule.path), "%s (%s)", msg, rule.source)
			}
		}
	}
	for i, rule := range requiredRules {
		if rule.typ != r.Type || (rule.applies != nil && !rule.applies(r.Inputs)) {
			continue
		}
		for _, p := range rule.paths {
			vals := lookup(r.Inputs, p)
			if len(vals) == 0 || empty(vals[0].v) {
				add(p, requiredRuleID(i), "required and empty (%s)", rule.source)
			}
		}
	}
	checkRecordRules(r, env, add)
}

// empty reports a missing value: null, "", [] or {}.
func empty(v resource.PropertyValue) bool {
	v = unwrap(v)
	switch {
	case v.IsNull():
		return true
	case v.IsString():
		return v.StringValue() == ""
	case v.IsArray():
		return len(v.ArrayValue()) == 0
	case v.IsObject():
		return len(v.ObjectValue()) == 0
	}
	return false
}
