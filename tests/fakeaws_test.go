package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/stacks"
	"github.com/dataplatform/dataplatform/verify"
)

var (
	efsPlanOnce sync.Once
	efsPlan     *plan.Plan
)

// efsStackPlan is prod with DAGs on EFS: the plan that holds the EFS types.
func efsStackPlan(t *testing.T) *plan.Plan {
	efsPlanOnce.Do(func() {
		opts := stackOptions(t, "prod")
		setIn("dataplatform:apps", "airflow.dagsOnEfs", true)(t, opts)
		setIn("dataplatform:cluster", "addons.efsCsiDriver", "v2.1.4-eksbuild.1")(t, opts)
		p, err := plan.Run(opts)
		require.NoError(t, err)
		efsPlan = p
	})
	require.NotNil(t, efsPlan)
	return efsPlan
}

func deepCopy(m resource.PropertyMap) resource.PropertyMap {
	if m == nil {
		return nil
	}
	return resource.NewPropertyMapFromMap(m.Mappable())
}

// fakeEnv is the fake account, with a read every preview of a stack on an
// existing network makes (DescribeSubnets).
var fakeEnv = func() mocks.Env {
	env := mocks.New("dataplatform", "prod", "us-east-1").Env()
	env.Reads = mocks.ReadsOf("aws:ec2/getSubnet:getSubnet", resource.PropertyMap{"id": resource.NewProperty("subnet-0a1a1a1a1a1a1a1a1")}, env.Region)
	return env
}()

// recordsOf returns the registrations of a plan, deep-copied so that a test
// may break them.
func recordsOf(t *testing.T, p *plan.Plan) []mocks.Record {
	var out []mocks.Record
	for _, r := range p.Records() {
		r.Inputs, r.Outputs = deepCopy(r.Inputs), deepCopy(r.Outputs)
		out = append(out, r)
	}
	return out
}

func TestFakeAWSAcceptsThePlatform(t *testing.T) {
	for name, p := range map[string]*plan.Plan{"dev": stackPlan(t, "dev"), "prod": stackPlan(t, "prod"), "prod with EFS": efsStackPlan(t)} {
		assert.Empty(t, mocks.Check(recordsOf(t, p), fakeEnv), name)
	}
}

func deleteAt(m resource.PropertyMap, path string) {
	segs := strings.Split(path, ".")
	cur := m
	for _, seg := range segs[:len(segs)-1] {
		cur = cur[resource.PropertyKey(seg)].ObjectValue()
	}
	delete(cur, resource.PropertyKey(segs[len(segs)-1]))
}

// hasViolation reports whether vs refuse the record named name by rule.
func hasViolation(vs []mocks.Violation, rule, name string) (mocks.Violation, bool) {
	for _, v := range vs {
		if v.Rule == rule && (v.Name == name || name == "*") {
			return v, true
		}
	}
	return mocks.Violation{}, false
}

// globalBreaks break the records so that one rule that spans inputs or
// resources refuses them; each returns the name of the resource it broke.
var globalBreaks = map[string]func(t *testing.T, rs []mocks.Record) string{
	"arn": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:eks/addon:Addon", "cluster-aws-ebs-csi-driver")
		r.Inputs["serviceAccountRoleArn"] = resource.NewProperty("arn:aws:iam::999999999999:role/ebs")
		return r.Name
	},
	"tags": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:s3/bucketV2:BucketV2", "")
		r.Inputs["tags"].ObjectValue()["aws:owner"] = resource.NewProperty("me")
		return r.Name
	},
	"policy/size": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:iam/role:Role", "airflow-role")
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"` + strings.Repeat("1", 2100) + `"}}}]}`
		r.Inputs["assumeRolePolicy"] = resource.NewProperty(doc)
		return r.Name
	},
	"policy/form": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:s3/bucketPolicy:BucketPolicy", "")
		r.Inputs["policy"] = resource.NewProperty(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"getobject","Principal":"*","Resource":"*"}]}`)
		return r.Name
	},
	"record/aws:ec2/instance:Instance/creditSpecification": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:ec2/instance:Instance", "")
		r.Inputs["instanceType"] = resource.NewProperty("c7gn.medium")
		return r.Name
	},
	"record/aws:eks/nodeGroup:NodeGroup/architecture": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:eks/nodeGroup:NodeGroup", "")
		r.Inputs["instanceTypes"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty("m7i.large")})
		return r.Name
	},
	"record/aws:eks/nodeGroup:NodeGroup/scaling": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:eks/nodeGroup:NodeGroup", "")
		r.Inputs["scalingConfig"].ObjectValue()["minSize"] = resource.NewProperty(9.0)
		return r.Name
	},
	"record/aws:rds/instance:Instance/maxAllocatedStorage": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:rds/instance:Instance", "airbyte-db")
		r.Inputs["maxAllocatedStorage"] = r.Inputs["allocatedStorage"]
		return r.Name
	},
	"record/aws:rds/instance:Instance/windows": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:rds/instance:Instance", "airbyte-db")
		r.Inputs["backupWindow"] = resource.NewProperty("04:45-05:15")
		r.Inputs["maintenanceWindow"] = resource.NewProperty("sun:04:30-sun:05:30")
		return r.Name
	},
	"record/aws:ec2/subnet:Subnet/availabilityZone": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:ec2/subnet:Subnet", "")
		r.Inputs["availabilityZone"] = resource.NewProperty("us-east-1z")
		return r.Name
	},
	"record/aws:ec2/vpcEndpoint:VpcEndpoint/serviceName": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:ec2/vpcEndpoint:VpcEndpoint", "")
		r.Inputs["serviceName"] = resource.NewProperty("com.amazonaws.eu-west-1.s3")
		return r.Name
	},
	"record/security-group-rule/ports": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "")
		r.Inputs["ipProtocol"] = resource.NewProperty("tcp")
		r.Inputs["fromPort"] = resource.NewProperty(6000.0)
		r.Inputs["toPort"] = resource.NewProperty(5432.0)
		return r.Name
	},
	"record/security-group-rule/source": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:ec2/securityGroupRule:SecurityGroupRule", "cluster-eksNodeIngressRule")
		delete(r.Inputs, "self")
		return r.Name
	},
	"record/aws:eks/cluster:Cluster/endpoint": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:eks/cluster:Cluster", "")
		vpc := r.Inputs["vpcConfig"].ObjectValue()
		vpc["endpointPrivateAccess"] = resource.NewProperty(false)
		vpc["endpointPublicAccess"] = resource.NewProperty(false)
		return r.Name
	},
	"across/subnet-in-vpc": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:ec2/subnet:Subnet", "")
		r.Inputs["cidrBlock"] = resource.NewProperty("192.168.7.0/24")
		return r.Name
	},
	"across/subnet-overlap": func(t *testing.T, rs []mocks.Record) string {
		var subnets []*mocks.Record
		for i := range rs {
			if rs[i].Type == "aws:ec2/subnet:Subnet" {
				subnets = append(subnets, &rs[i])
			}
		}
		if len(subnets) < 2 {
			panic(errNoTarget{})
		}
		subnets[1].Inputs["cidrBlock"] = subnets[0].Inputs["cidrBlock"]
		return subnets[1].Name
	},
	"across/two-zones": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:rds/subnetGroup:SubnetGroup", "")
		ids := r.Inputs["subnetIds"].ArrayValue()
		r.Inputs["subnetIds"] = resource.NewProperty(ids[:1])
		return r.Name
	},
	"across/managed-policies-per-role": func(t *testing.T, rs []mocks.Record) string {
		// The Karpenter controller has five; six more make eleven. The
		// attachments are spread over the records that follow (their
		// values are rewritten, not added, so the slice keeps its length).
		r := pick(t, rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "karpenter-controller-interruption")
		n := 0
		for i := range rs {
			if rs[i].Type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && !strings.HasPrefix(rs[i].Name, "karpenter-controller") && n < 6 {
				rs[i].Inputs["role"] = r.Inputs["role"]
				n++
			}
		}
		return "*" // the role's attachments: whichever is the eleventh
	},
	"across/inline-policies-per-role": func(t *testing.T, rs []mocks.Record) string {
		r := pick(t, rs, "aws:iam/rolePolicy:RolePolicy", "")
		stmts := make([]string, 120)
		for i := range stmts {
			stmts[i] = fmt.Sprintf(`{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/group/number-%03d:*"}`, i)
		}
		r.Inputs["policy"] = resource.NewProperty(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
		return r.Name
	},
	"across/access-entry-once": func(t *testing.T, rs []mocks.Record) string {
		node := pick(t, rs, "aws:eks/nodeGroup:NodeGroup", "")
		r := pick(t, rs, "aws:eks/accessEntry:AccessEntry", "karpenter-node")
		r.Inputs["principalArn"] = node.Inputs["nodeRoleArn"]
		return r.Name
	},
	"across/cognito-mapped-attributes": func(t *testing.T, rs []mocks.Record) string {
		// A provider that fills custom:groups (one of the pool's groups,
		// turned into an identity provider), and the Airflow client signing
		// users in through it without write access to the attribute.
		idp := pick(t, rs, "aws:cognito/userGroup:UserGroup", "sso-airbyte")
		idp.Type = "aws:cognito/identityProvider:IdentityProvider"
		idp.Inputs = resource.PropertyMap{"providerName": resource.NewProperty("Okta"), "attributeMapping": resource.NewProperty(resource.PropertyMap{
			"custom:groups": resource.NewProperty("groups"), "username": resource.NewProperty("sub")})}
		c := pick(t, rs, "aws:cognito/userPoolClient:UserPoolClient", "sso-airflow")
		c.Inputs["supportedIdentityProviders"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty("Okta")})
		delete(c.Inputs, "writeAttributes")
		return c.Name
	},
	"across/one-snapshot-at-a-time": func(t *testing.T, rs []mocks.Record) string {
		// Dev's shared instance: Airflow's snapshot no longer waits for
		// Airbyte's (as before the fix), only for the instance.
		a := pick(t, rs, "aws:rds/snapshot:Snapshot", "airbyte-before-airbyte-2-2-0")
		b := pick(t, rs, "aws:rds/snapshot:Snapshot", "airflow-before-airflow-1-21-0")
		if b.Inputs["dbInstanceIdentifier"] != a.Inputs["dbInstanceIdentifier"] {
			panic(errNoTarget{}) // prod: one instance per app
		}
		for i := range rs {
			var keep []string
			for _, d := range rs[i].Dependencies {
				if d != a.URN {
					keep = append(keep, d)
				}
			}
			rs[i].Dependencies = keep
		}
		return b.Name
	},
	"across/cloudtrail-key-policy": func(t *testing.T, rs []mocks.Record) string {
		// The key policy as it was: DescribeKey in the statement whose
		// condition is on the encryption context, which it carries none of.
		key := pick(t, rs, "aws:kms/key:Key", "secrets-platform")
		key.Inputs["policy"] = resource.NewProperty(oldTrailKeyPolicy)
		return pick(t, rs, "aws:cloudtrail/trail:Trail", "").Name
	},
	"across/cloudtrail-bucket-policy": func(t *testing.T, rs []mocks.Record) string {
		// The bucket policy without the statement CreateTrail checks first.
		r := pick(t, rs, "aws:s3/bucketPolicy:BucketPolicy", "audit-bucket")
		r.Inputs["policy"] = resource.NewProperty(withoutStatement(t, stringInput(r, "policy"), "CloudTrailChecksTheBucket"))
		return pick(t, rs, "aws:cloudtrail/trail:Trail", "").Name
	},
	"across/service-role-trust": func(t *testing.T, rs []mocks.Record) string {
		// The monitoring role trusting EC2 instead of RDS's monitoring.
		role := pick(t, rs, "aws:iam/role:Role", "airbyte-db-monitoring")
		role.Inputs["assumeRolePolicy"] = resource.NewProperty(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		return "airbyte-db"
	},
	"across/preview-role-reads": func(t *testing.T, rs []mocks.Record) string {
		// A preview role denied what every preview reads.
		r := pick(t, rs, "aws:iam/rolePolicy:RolePolicy", "preview-denies")
		r.Inputs["policy"] = resource.NewProperty(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:Describe*","Resource":"*"}]}`)
		return "preview"
	},
	"across/parameter-group-family": func(t *testing.T, rs []mocks.Record) string {
		pg := pick(t, rs, "aws:rds/parameterGroup:ParameterGroup", "airbyte-db")
		pg.Inputs["family"] = resource.NewProperty("postgres16")
		return "airbyte-db"
	},
}

// errNoTarget stops a break when a plan has no resource to break.
type errNoTarget struct{}

// pick returns the first record of typ (named name, when given); when the
// plan has none, the break moves on to the next plan.
func pick(t *testing.T, rs []mocks.Record, typ, name string) *mocks.Record {
	for i := range rs {
		if rs[i].Type == typ && (name == "" || rs[i].Name == name) {
			return &rs[i]
		}
	}
	panic(errNoTarget{})
}

// breakValue returns a value of the same kind that no rule accepts.
func breakValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsNumber():
		return resource.NewProperty(-7.5)
	case v.IsBool():
		return resource.NewProperty("\x01")
	}
	return resource.NewProperty("\x01not-valid")
}

// TestEveryFakeAWSRuleRefusesABrokenInput breaks, for each rule of the fake
// AWS, one resource of the real plans the way that rule forbids, and checks
// that the rule (and no other resource) reports it.
func TestEveryFakeAWSRuleRefusesABrokenInput(t *testing.T) {
	rules := mocks.Rules()
	require.Greater(t, len(rules), 100)
	plans := []*plan.Plan{stackPlan(t, "dev"), stackPlan(t, "prod"), efsStackPlan(t)}
	for _, rule := range rules {
		t.Run(rule.ID, func(t *testing.T) {
			var rs []mocks.Record
			name := ""
			for _, p := range plans {
				rs = recordsOf(t, p)
				if name = tryBreak(t, rule, rs); name != "" {
					break
				}
			}
			require.NotEmpty(t, name, "no resource in the plans to break for rule %s: a rule nothing exercises", rule.ID)
			vs := mocks.Check(rs, fakeEnv)
			v, ok := hasViolation(vs, rule.ID, name)
			require.True(t, ok, "rule %s did not refuse %s; got %v", rule.ID, name, vs)
			for _, v := range vs {
				r, ok := verify.Lookup(v.Rule)
				assert.True(t, ok && r.Kind == verify.Refusal, "%s: a finding of a registered refusal", v.Rule)
			}
			if name != "*" {
				assert.Contains(t, v.String(), name)
			}
			assert.NotEmpty(t, v.Input)
			if !strings.HasPrefix(rule.ID, "across/") && !strings.HasPrefix(rule.ID, "record/") && rule.ID != "arn" && rule.ID != "tags" && !strings.HasPrefix(rule.ID, "policy/") {
				assert.Contains(t, v.Message, rule.Source, "the message cites the rule's source")
			}
		})
	}
}

// tryBreak breaks rs for rule and returns the broken resource's name, or ""
// when rs has nothing to break.
func tryBreak(t *testing.T, rule mocks.RuleInfo, rs []mocks.Record) (name string) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errNoTarget); !ok {
				panic(r)
			}
			name = ""
		}
	}()
	return breakFor(t, rule, rs)
}

// breakFor breaks rs for rule and returns the broken resource's name.
func breakFor(t *testing.T, rule mocks.RuleInfo, rs []mocks.Record) string {
	kind, rest, _ := strings.Cut(rule.ID, "/")
	switch kind {
	case "name":
		if rest != rule.Type { // name/<type>/<input>: a second name
			for i := range rs {
				if rs[i].Type == rule.Type && lookupPath(rs[i].Inputs, rule.Input) != nil {
					rs[i].Inputs[resource.PropertyKey(rule.Input)] = resource.NewProperty("\x01")
					return rs[i].Name
				}
			}
			return ""
		}
		r := pick(t, rs, rule.Type, "")
		r.Outputs[resource.PropertyKey(rule.Input)] = resource.NewProperty(strings.Repeat("a", 513))
		return r.Name
	case "input":
		for i := range rs {
			if rs[i].Type != rule.Type {
				continue
			}
			if visit(rs[i].Inputs, rule.Input, breakValue) {
				return rs[i].Name
			}
		}
		return ""
	case "required":
		for i := range rs {
			if rs[i].Type != rule.Type {
				continue
			}
			first := strings.Split(rule.Input, ", ")[0]
			if lookupPath(rs[i].Inputs, first) == nil {
				continue
			}
			if strings.HasSuffix(rule.ID, "/when") {
				// Break a resource the condition applies to: one whose
				// violations include this rule once the input is gone.
				copyIn := deepCopy(rs[i].Inputs)
				deleteAt(rs[i].Inputs, first)
				if _, ok := hasViolation(mocks.Check(rs, fakeEnv), rule.ID, rs[i].Name); !ok {
					rs[i].Inputs = copyIn
					continue
				}
				return rs[i].Name
			}
			deleteAt(rs[i].Inputs, first)
			return rs[i].Name
		}
		return ""
	}
	br, ok := globalBreaks[rule.ID]
	require.True(t, ok, "rule %s has no negative control in globalBreaks", rule.ID)
	return br(t, rs)
}

// visit replaces the first value at a rule path with f(value), and reports
// whether there was one: "[]" stands for the first element of a list that
// has the rest of the path.
func visit(m resource.PropertyMap, path string, f func(resource.PropertyValue) resource.PropertyValue) bool {
	seg, rest, more := strings.Cut(path, ".")
	key := resource.PropertyKey(strings.TrimSuffix(seg, "[]"))
	v, ok := m[key]
	if !ok || v.IsNull() {
		return false
	}
	if strings.HasSuffix(seg, "[]") {
		if !v.IsArray() {
			return false
		}
		arr := v.ArrayValue()
		for i := range arr {
			if !more {
				arr[i] = f(arr[i])
				return true
			}
			if arr[i].IsObject() && visit(arr[i].ObjectValue(), rest, f) {
				return true
			}
		}
		return false
	}
	if !more {
		m[key] = f(v)
		return true
	}
	return v.IsObject() && visit(v.ObjectValue(), rest, f)
}

// lookupPath returns (a copy of) the first value at a rule path, or nil.
func lookupPath(m resource.PropertyMap, path string) *resource.PropertyValue {
	var found *resource.PropertyValue
	visit(m, path, func(v resource.PropertyValue) resource.PropertyValue {
		found = &v
		return v
	})
	return found
}

func TestTheLongestPlatformOnTheWidestNetworkPlansCleanly(t *testing.T) {
	opts := stackOptions(t, "prod")
	opts.Config["dataplatform:name"] = strings.Repeat("a", 31) + "z" // the longest name spec allows
	setIn("dataplatform:network", "availabilityZones", []string{})(t, opts)
	setIn("dataplatform:network", "azCount", 6)(t, opts) // every zone of us-east-1
	setIn("dataplatform:apps", "airflow.dagsOnEfs", true)(t, opts)
	setIn("dataplatform:cluster", "addons.efsCsiDriver", "v2.1.4-eksbuild.1")(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err, "a config spec accepts must give a plan AWS accepts")
	assert.Len(t, p.Find("aws:ec2/natGateway:NatGateway"), 6)

	// One character more is refused by spec, before anything is planned.
	opts.Config["dataplatform:name"] = strings.Repeat("a", 32) + "z"
	p, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataplatform:name")
	assert.Empty(t, p.Resources)
}

func TestAutoNamesTooLongForAWSAreRefused(t *testing.T) {
	// A library user's logical-name prefix makes Pulumi auto-name IAM roles
	// beyond IAM's 64 characters: the fake AWS refuses the plan.
	opts := stackOptions(t, "dev")
	opts.Program = func(ctx *pulumi.Context) error {
		cfg, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		env, err := stacks.ResolveEnvironment(ctx, cfg, projectDir, time.Now())
		if err != nil {
			return err
		}
		_, err = stacks.DeployInstance(ctx, cfg, env, strings.Repeat("x", 40)+"-")
		return err
	}
	_, err := plan.Run(opts)
	require.Error(t, err)
	var refused *plan.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "auto-named by Pulumi from the logical name")
	assert.Contains(t, err.Error(), "Pulumi auto-names this type up to 64")
}

func TestARNsOfAnotherAccountNeedTheConfigsSay(t *testing.T) {
	// The git credentials of prod live in a security account.
	opts := stackOptions(t, "prod")
	shared := "arn:aws:secretsmanager:us-east-1:210987654321:secret:dags-git-AbCdEf"
	setIn("dataplatform:apps", "airflow.gitSync.credentialsSecretArn", shared)(t, opts)
	_, err := plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `dataplatform:apps.airflow.gitSync.credentialsSecretArn: "`+shared+`" is in account 210987654321, but the deploy runs in 123456789012; use this account's, or list 210987654321 in dataplatform:policy.externalAccounts`)

	setIn("dataplatform:policy", "externalAccounts", []map[string]string{{"account": "210987654321", "reason": "the security account shares the DAG repository's credentials"}})(t, opts)
	_, err = plan.Run(opts)
	require.NoError(t, err)

	// Another region is refused whatever the account.
	setIn("dataplatform:apps", "airflow.gitSync.credentialsSecretArn", strings.Replace(shared, "us-east-1", "eu-west-1", 1))(t, opts)
	_, err = plan.Run(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `is in region eu-west-1, but the stack deploys to us-east-1`)
}

// AWS answers GetParameter only for parameters that exist: the fake AWS
// holds Amazon Linux 2023's public image parameters, not a misspelling.
func TestTheFakeAWSHasOnlyRealImageParameters(t *testing.T) {
	m := mocks.New("dataplatform", "dev", "us-east-1")
	call := func(name string) error {
		_, err := m.Call(pulumi.MockCallArgs{Token: "aws:ssm/getParameter:getParameter", Args: resource.PropertyMap{"name": resource.NewProperty(name)}})
		return err
	}
	for _, ok := range []string{"al2023-ami-kernel-default-arm64", "al2023-ami-kernel-default-x86_64", "al2023-ami-minimal-kernel-6.12-arm64"} {
		assert.NoError(t, call("/aws/service/ami-amazon-linux-latest/"+ok))
	}
	for _, bad := range []string{"al2023-ami-kernel-default-aarch64", "amzn2-ami-hvm-arm64", "al2023-ami-kernel-default-amd64"} {
		assert.ErrorContains(t, call("/aws/service/ami-amazon-linux-latest/"+bad), "ParameterNotFound")
	}
}

// oldTrailKeyPolicy is the platform key's CloudTrail statement before the
// fix: DescribeKey under a condition on the encryption context.
const oldTrailKeyPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"AccountAdministersThroughIAM","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"CloudTrailEncryptsTheAuditLogs","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
  "Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:123456789012:trail/*"}}}]}`

func stringInput(r *mocks.Record, key resource.PropertyKey) string {
	v := r.Inputs[key]
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v.StringValue()
}

// withoutStatement returns the policy doc without the statement sid.
func withoutStatement(t *testing.T, doc, sid string) string {
	t.Helper()
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &d))
	var keep []any
	for _, s := range d["Statement"].([]any) {
		if s.(map[string]any)["Sid"] != sid {
			keep = append(keep, s)
		}
	}
	require.Less(t, len(keep), len(d["Statement"].([]any)), "the policy has statement %s", sid)
	d["Statement"] = keep
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return string(b)
}

// The fake AWS evaluates the policies AWS services check, as themselves,
// when a resource is created: each of the requests it models is refused
// when the statement that allows it goes, and allowed as the program
// writes it.
func TestServicesMayDoWhatTheirCreationChecks(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		rs := recordsOf(t, stackPlan(t, stack))
		for _, rule := range []string{"across/cloudtrail-bucket-policy", "across/cloudtrail-key-policy", "across/service-role-trust"} {
			for _, v := range mocks.Check(rs, fakeEnv) {
				assert.NotEqual(t, rule, v.Rule, "%s: %s", stack, v)
			}
		}
	}
	breaks := []struct {
		what, typ, name, sid, rule, want string
	}{
		{"PutObject", "aws:s3/bucketPolicy:BucketPolicy", "audit-bucket", "CloudTrailWritesLogFiles", "across/cloudtrail-bucket-policy", "does not let CloudTrail call s3:PutObject on arn:aws:s3:::dataplatform-prod-audit-123456789012/AWSLogs/123456789012/"},
		{"GenerateDataKey", "aws:kms/key:Key", "secrets-platform", "CloudTrailEncryptsTheAuditLogs", "across/cloudtrail-key-policy", "the policy of key secrets-platform does not let CloudTrail call kms:GenerateDataKey: no statement allows it"},
		{"DescribeKey", "aws:kms/key:Key", "secrets-platform", "CloudTrailDescribesTheKey", "across/cloudtrail-key-policy", "does not let CloudTrail call kms:DescribeKey"},
	}
	for _, b := range breaks {
		rs := recordsOf(t, stackPlan(t, "prod"))
		r := pick(t, rs, b.typ, b.name)
		r.Inputs["policy"] = resource.NewProperty(withoutStatement(t, stringInput(r, "policy"), b.sid))
		v, ok := hasViolation(mocks.Check(rs, fakeEnv), b.rule, "audit")
		require.True(t, ok, b.what)
		assert.Contains(t, v.Message, b.want, b.what)
	}
	// A deny wins: the bucket's TLS-only statement, turned on everyone.
	rs := recordsOf(t, stackPlan(t, "prod"))
	r := pick(t, rs, "aws:s3/bucketPolicy:BucketPolicy", "audit-bucket")
	r.Inputs["policy"] = resource.NewProperty(strings.Replace(stringInput(r, "policy"), `"aws:SecureTransport":["false"]`, `"aws:SecureTransport":["true"]`, 1))
	v, ok := hasViolation(mocks.Check(rs, fakeEnv), "across/cloudtrail-bucket-policy", "audit")
	require.True(t, ok)
	assert.Contains(t, v.Message, "statement DenyInsecureTransport denies it")
	// Every service whose role is checked at creation.
	for _, c := range []struct{ role, resource, service string }{
		{"cluster-eksRole-role", "cluster-eksCluster", "eks.amazonaws.com"},
		{"cluster-core-node", "cluster-core", "ec2.amazonaws.com"},
		{"airflow-db-monitoring", "airflow-db", "monitoring.rds.amazonaws.com"},
	} {
		rs := recordsOf(t, stackPlan(t, "prod"))
		role := pick(t, rs, "aws:iam/role:Role", c.role)
		role.Inputs["assumeRolePolicy"] = resource.NewProperty(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		v, ok := hasViolation(mocks.Check(rs, fakeEnv), "across/service-role-trust", c.resource)
		require.True(t, ok, c.role)
		assert.Contains(t, v.Message, c.service+" may not assume role "+c.role, c.role)
	}
}
