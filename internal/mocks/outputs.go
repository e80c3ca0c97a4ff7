package mocks

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ec2IDPrefixes are the prefixes of EC2 resource IDs, as AWS prints them.
var ec2IDPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "vpc",
	"aws:ec2/subnet:Subnet":                                     "subnet",
	"aws:ec2/internetGateway:InternetGateway":                   "igw",
	"aws:ec2/eip:Eip":                                           "eipalloc",
	"aws:ec2/natGateway:NatGateway":                             "nat",
	"aws:ec2/routeTable:RouteTable":                             "rtb",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       "rtbassoc",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "vpce",
	"aws:ec2/securityGroup:SecurityGroup":                       "sg",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":         "sg",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "sgr",
	"aws:ec2/flowLog:FlowLog":                                   "fl",
	"aws:ec2/launchTemplate:LaunchTemplate":                     "lt",
	"aws:ec2/instance:Instance":                                 "i",
}

// ec2ARNKinds are the resource kinds in EC2 ARNs ("arn:aws:ec2:REGION:ACCOUNT:KIND/ID").
var ec2ARNKinds = map[string]string{
	"vpc": "vpc", "subnet": "subnet", "igw": "internet-gateway", "eipalloc": "elastic-ip",
	"nat": "natgateway", "rtb": "route-table", "vpce": "vpc-endpoint", "sg": "security-group",
	"sgr": "security-group-rule", "fl": "vpc-flow-log", "lt": "launch-template", "i": "instance",
}

// outputs returns the ID and output properties AWS (or Kubernetes) would
// return for a new resource: its inputs plus what the service computes.
// The third result says how the physical name was generated, if it was.
func (m *Mocks) outputs(args pulumi.MockResourceArgs) (string, resource.PropertyMap, string) {
	if id, out, ok := m.keptRandom(args); ok {
		return id, out, ""
	}
	h := hash(args.TypeToken + "::" + args.Name)
	get := func(k string) string { return stringAt(args.Inputs, k) }
	// Generated names are random at each creation: the seed stands for it.
	physical, generated := physicalName(args.TypeToken, args.Name, get, hash(h+m.Seed))
	if physical != "" {
		in := args.Inputs.Copy()
		if in == nil {
			in = resource.PropertyMap{}
		}
		in[resource.PropertyKey(nameRules[args.TypeToken].prop)] = resource.NewProperty(physical)
		args.Inputs = in
	}
	id, out := m.outputsOf(args, physical)
	return id, out, generated
}

// outputsOf computes the outputs of args, whose inputs hold the physical
// name already.
func (m *Mocks) outputsOf(args pulumi.MockResourceArgs, physical string) (string, resource.PropertyMap) {
	out := args.Inputs.Copy()
	if out == nil {
		out = resource.PropertyMap{}
	}
	h := hash(args.TypeToken + "::" + args.Name)
	region, acct := m.Region, m.Account
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewProperty(v) }
	get := func(k string) string {
		v, ok := out[resource.PropertyKey(k)]
		if !ok || !v.IsString() {
			return ""
		}
		return v.StringValue()
	}
	if prefix, ok := ec2IDPrefixes[args.TypeToken]; ok {
		id := prefix + "-0" + h[:16]
		set("arn", fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", region, acct, ec2ARNKinds[prefix], id))
		set("ownerId", acct)
		switch args.TypeToken {
		case "aws:ec2/vpc:Vpc":
			set("defaultSecurityGroupId", "sg-0"+hash(h + "sg")[:16])
			set("mainRouteTableId", "rtb-0"+hash(h + "rtb")[:16])
			set("defaultNetworkAclId", "acl-0"+hash(h + "acl")[:16])
		case "aws:ec2/eip:Eip":
			set("allocationId", id)
			set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[0])%250))
		case "aws:ec2/natGateway:NatGateway":
			set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[1])%250))
		case "aws:ec2/instance:Instance":
			set("primaryNetworkInterfaceId", "eni-0"+hash(h + "eni")[:16])
			set("privateIp", fmt.Sprintf("10.0.%d.%d", int(h[2])%250, 4+int(h[3])%250))
			if b, ok := out["associatePublicIpAddress"]; ok && unwrap(b).IsBool() && unwrap(b).BoolValue() {
				set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[4])%250))
			}
		case "aws:ec2/launchTemplate:LaunchTemplate":
			out["latestVersion"] = resource.NewProperty(1.0)
			out["defaultVersion"] = resource.NewProperty(1.0)
		case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
			set("securityGroupRuleId", id)
		}
		return id, out
	}

	switch args.TypeToken {
	case "aws:iam/role:Role":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", acct, physical))
		set("uniqueId", "AROA"+strings.ToUpper(h[:17]))
		return physical, out
	case "aws:iam/policy:Policy":
		arn := fmt.Sprintf("arn:aws:iam::%s:policy/%s", acct, physical)
		set("arn", arn)
		set("policyId", "ANPA"+strings.ToUpper(h[:17]))
		return arn, out
	case "aws:iam/instanceProfile:InstanceProfile":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", acct, physical))
		return physical, out
	case "aws:iam/rolePolicy:RolePolicy":
		return get("role") + ":" + args.Name, out
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return get("role") + "-" + h[:20], out
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		// IAM keeps the URL without its scheme (GetOpenIDConnectProvider Url).
		url := strings.TrimPrefix(get("url"), "https://")
		arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", acct, url)
		set("arn", arn)
		set("url", url)
		return arn, out
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, acct, physical))
		return physical, out
	case "aws:cloudwatch/eventRule:EventRule":
		set("arn", fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, acct, physical))
		return physical, out
	case "aws:cloudwatch/eventTarget:EventTarget":
		return get("rule") + "-" + args.Name, out
	case "aws:kms/key:Key":
		keyID := uuid(h)
		set("keyId", keyID)
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, acct, keyID))
		return keyID, out
	case "aws:kms/alias:Alias":
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, acct, get("name")))
		set("targetKeyArn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, acct, get("targetKeyId")))
		return get("name"), out
	case "aws:sqs/queue:Queue":
		url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, physical)
		set("arn", fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, acct, physical))
		set("url", url)
		return url, out
	case "aws:sqs/queuePolicy:QueuePolicy":
		return get("queueUrl"), out
	case "aws:s3/bucketV2:BucketV2":
		set("arn", "arn:aws:s3:::"+physical)
		set("bucketDomainName", physical+".s3.amazonaws.com")
		set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.amazonaws.com", physical, region))
		set("region", region)
		set("hostedZoneId", "Z3AQBSTGFYJSTF")
		return physical, out
	case "aws:rds/instance:Instance":
		address := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", physical, h[:12], region)
		port := 5432.0
		if p, ok := out["port"]; ok && p.IsNumber() {
			port = p.NumberValue()
		}
		set("address", address)
		set("endpoint", fmt.Sprintf("%s:%d", address, int(port)))
		out["port"] = resource.NewProperty(port)
		set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, acct, physical))
		set("resourceId", "db-"+strings.ToUpper(h[:26]))
		set("hostedZoneId", "Z2R2ITUGPM61AM")
		if v, ok := out["manageMasterUserPassword"]; ok && v.IsBool() && v.BoolValue() {
			kms := get("masterUserSecretKmsKeyId")
			if kms == "" {
				kms = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/secretsmanager", region, acct)
			}
			secret := resource.NewProperty(resource.PropertyMap{
				"secretArn":    resource.NewProperty(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-%s", region, acct, uuid(h), suffix6(h))),
				"kmsKeyId":     resource.NewProperty(kms),
				"secretStatus": resource.NewProperty("active"),
			})
			out["masterUserSecrets"] = resource.NewProperty([]resource.PropertyValue{secret})
		}
		return physical, out
	case "aws:ecr/repository:Repository":
		n := get("name")
		set("arn", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", region, acct, n))
		set("registryId", acct)
		set("repositoryUrl", fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", acct, region, n))
		return n, out
	case "aws:efs/fileSystem:FileSystem":
		id := "fs-0" + h[:16]
		set("arn", fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", region, acct, id))
		set("dnsName", fmt.Sprintf("%s.efs.%s.amazonaws.com", id, region))
		return id, out
	case "aws:efs/mountTarget:MountTarget":
		return "fsmt-0" + h[:16], out
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		set("arn", fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, acct, physical))
		return physical, out
	case "aws:rds/snapshot:Snapshot":
		id := get("dbSnapshotIdentifier")
		set("dbSnapshotArn", fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:%s", region, acct, id))
		set("status", "available")
		return id, out
	case "aws:rds/subnetGroup:SubnetGroup":
		set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:subgrp:%s", region, acct, physical))
		return physical, out
	case "aws:rds/parameterGroup:ParameterGroup":
		set("arn", fmt.Sprintf("arn:aws:rds:%s:%s:pg:%s", region, acct, physical))
		return physical, out
	case "aws:secretsmanager/secret:Secret":
		arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, acct, physical, suffix6(h))
		set("arn", arn)
		return arn, out
	case "aws:secretsmanager/secretVersion:SecretVersion":
		v := uuid(hash(h + "version"))
		set("versionId", v)
		set("arn", get("secretId"))
		return get("secretId") + "|" + v, out
	case "aws:cognito/userPool:UserPool":
		id := region + "_" + strings.ToUpper(h[:1]) + h[1:9]
		set("arn", fmt.Sprintf("arn:aws:cognito-idp:%s:%s:userpool/%s", region, acct, id))
		set("endpoint", fmt.Sprintf("cognito-idp.%s.amazonaws.com/%s", region, id))
		return id, out
	case "aws:cognito/userPoolClient:UserPoolClient":
		if v, ok := args.Inputs["generateSecret"]; ok && unwrap(v).IsBool() && unwrap(v).BoolValue() {
			out["clientSecret"] = resource.MakeSecret(resource.NewProperty(fakeSecret(hash(h+m.Seed+"client"), 51)))
		}
		return h[:26], out
	case "aws:cognito/userPoolDomain:UserPoolDomain":
		set("awsAccountId", acct)
		set("cloudfrontDistribution", "d"+h[:13]+".cloudfront.net")
		return get("domain"), out
	case "aws:cognito/userGroup:UserGroup":
		return get("userPoolId") + "/" + get("name"), out
	case "aws:cognito/identityProvider:IdentityProvider":
		return get("userPoolId") + ":" + get("providerName"), out
	case "aws:cloudtrail/trail:Trail":
		arn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, acct, physical)
		set("arn", arn)
		set("homeRegion", region)
		return physical, out
	case "aws:sns/topic:Topic":
		arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, acct, physical)
		set("arn", arn)
		return arn, out
	case "aws:eks/cluster:Cluster":
		m.eksClusterState(out, physical)
		return physical, out
	case "aws:ec2/securityGroupRule:SecurityGroupRule":
		return "sgrule-" + h[:10], out
	case "aws:eks/nodeGroup:NodeGroup":
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:nodegroup/%s/%s/%s", region, acct, get("clusterName"), physical, uuid(h)))
		set("status", "ACTIVE")
		return get("clusterName") + ":" + physical, out
	case "aws:eks/addon:Addon":
		set("arn", fmt.Sprintf("arn:aws:eks:%s:%s:addon/%s/%s/%s", region, acct, get("clusterName"), get("addonName"), uuid(h)))
		return get("clusterName") + ":" + get("addonName"), out
	case "aws:eks/accessEntry:AccessEntry":
		set("accessEntryArn", fmt.Sprintf("arn:aws:eks:%s:%s:access-entry/%s/role/%s/%s", region, acct, get("clusterName"), acct, uuid(h)))
		return get("clusterName") + ":" + get("principalArn"), out
	case "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
		return get("clusterName") + "#" + get("principalArn") + "#" + get("policyArn"), out
	case "random:index/randomPassword:RandomPassword":
		out["result"] = resource.MakeSecret(resource.NewProperty(fakeSecret(hash(h+m.Seed+m.replaced(args)), 32)))
		return "none", out
	case "random:index/randomId:RandomId":
		n := 8
		if v, ok := out["byteLength"]; ok && v.IsNumber() {
			n = int(v.NumberValue())
		}
		raw := []byte(hash(h + m.Seed + m.replaced(args) + "id"))[:n]
		hexID := fmt.Sprintf("%x", raw)
		set("hex", hexID)
		set("b64Url", base64.RawURLEncoding.EncodeToString(raw))
		set("b64Std", base64.StdEncoding.EncodeToString(raw))
		return base64.RawURLEncoding.EncodeToString(raw), out
	case "random:index/randomBytes:RandomBytes":
		raw := []byte(hash(h + m.Seed + m.replaced(args) + "bytes"))[:32]
		out["base64"] = resource.MakeSecret(resource.NewProperty(base64.StdEncoding.EncodeToString(raw)))
		out["hex"] = resource.MakeSecret(resource.NewProperty(fmt.Sprintf("%x", raw)))
		return "none", out
	}
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		return args.Name + "-" + uuid(h), out
	}
	if strings.HasPrefix(args.TypeToken, "kubernetes:") {
		return m.kubernetesOutputs(args, out)
	}
	return args.Name + "-" + h[:12], out
}

// kubernetesOutputs fills what the API server returns: the metadata of the
// object, and for a Helm release its status.
func (m *Mocks) kubernetesOutputs(args pulumi.MockResourceArgs, out resource.PropertyMap) (string, resource.PropertyMap) {
	if args.TypeToken == "kubernetes:helm.sh/v3:Release" {
		name := args.Name
		if v, ok := out["name"]; ok && v.IsString() && v.StringValue() != "" {
			name = v.StringValue()
		}
		ns := "default"
		if v, ok := out["namespace"]; ok && v.IsString() && v.StringValue() != "" {
			ns = v.StringValue()
		}
		out["status"] = resource.NewProperty(resource.PropertyMap{
			"name":      resource.NewProperty(name),
			"namespace": resource.NewProperty(ns),
			"status":    resource.NewProperty("deployed"),
			"revision":  resource.NewProperty(1.0),
		})
		return ns + "/" + name, out
	}
	meta := resource.PropertyMap{}
	if v, ok := out["metadata"]; ok && v.IsObject() {
		meta = v.ObjectValue().Copy()
	}
	name := args.Name
	if v, ok := meta["name"]; ok && v.IsString() && v.StringValue() != "" {
		name = v.StringValue()
	} else {
		name = args.Name + "-" + hash(args.TypeToken + args.Name)[:8]
		meta["name"] = resource.NewProperty(name)
	}
	meta["uid"] = resource.NewProperty(uuid(hash(args.TypeToken + "::" + args.Name)))
	out["metadata"] = resource.NewProperty(meta)
	if ns, ok := meta["namespace"]; ok && ns.IsString() {
		return ns.StringValue() + "/" + name, out
	}
	return name, out
}

// uuid formats the start of a hex digest like a UUID.
func uuid(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// suffix6 is the six random characters Secrets Manager appends to a secret's ARN.
func suffix6(h string) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[int(h[i])%len(letters)]
	}
	return string(b)
}

// fakeSecret is a stable stand-in for a generated password.
func fakeSecret(h string, n int) string {
	s := hash(h + "secret")
	for len(s) < n {
		s += hash(s)
	}
	return s[:n]
}

// keptRandom answers for a resource of the random provider that the
// previous run's State holds with the same inputs: Pulumi keeps its result.
func (m *Mocks) keptRandom(args pulumi.MockResourceArgs) (string, resource.PropertyMap, bool) {
	if !strings.HasPrefix(args.TypeToken, "random:") {
		return "", nil, false
	}
	prev, ok := m.State[args.TypeToken+"/"+args.Name]
	if !ok || !prev.Inputs.DeepEquals(args.Inputs) {
		return "", nil, false
	}
	return prev.ID, prev.Outputs.Copy(), true
}

// replaced returns what makes a random resource's new result differ from
// the one it replaces: every input of the random provider forces a
// replacement, and a replacement generates anew, even with inputs seen
// before (keepers that go back to an earlier value).
func (m *Mocks) replaced(args pulumi.MockResourceArgs) string {
	if prev, ok := m.State[args.TypeToken+"/"+args.Name]; ok {
		return fmt.Sprintf("replaces %s %v", prev.ID, prev.Outputs.Mappable())
	}
	return ""
}
