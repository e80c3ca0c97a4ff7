package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/plan/cli"
	"github.com/dataplatform/dataplatform/policy"
	"github.com/dataplatform/dataplatform/stackconfig"
)

func stackWaivers(t *testing.T, stack string) []policy.Waiver {
	opts := stackOptions(t, stack)
	cfg, err := stackconfig.Parse(opts.Project, opts.Stack, func(k string) string { return opts.Config[k] })
	require.NoError(t, err)
	var out []policy.Waiver
	for _, w := range cfg.Policy.Waivers {
		out = append(out, policy.Waiver{Rule: w.Rule, Reason: w.Reason})
	}
	return out
}

func TestProdHasNoViolationAndDevWaivesOnlyWithReasons(t *testing.T) {
	prod, err := policy.Evaluate(stackPlan(t, "prod"), stackWaivers(t, "prod"))
	require.NoError(t, err)
	assert.Empty(t, prod.Violations, "prod must pass every rule, of every severity")
	assert.Empty(t, prod.Waivers, "prod waives nothing")

	waivers := stackWaivers(t, "dev")
	dev, err := policy.Evaluate(stackPlan(t, "dev"), waivers)
	require.NoError(t, err)
	assert.Empty(t, dev.Unwaived(), "every dev violation is waived in Pulumi.dev.yaml")
	assert.False(t, dev.Failed())
	var text bytes.Buffer
	require.NoError(t, dev.WriteText(&text))
	for _, w := range waivers {
		assert.Contains(t, text.String(), w.Reason, "the report prints why %s is waived", w.Rule)
	}
	// A waiver is only for what dev really needs: each one covers a violation.
	used := map[string]bool{}
	for _, v := range dev.Violations {
		used[v.Rule] = true
	}
	for _, w := range waivers {
		assert.True(t, used[w.Rule], "waiver of %s covers nothing", w.Rule)
	}
}

// clone deep-copies a plan so a test can break it.
func clone(t *testing.T, p *plan.Plan) *plan.Plan {
	out, err := p.Clone()
	require.NoError(t, err)
	return out
}

func first(t *testing.T, p *plan.Plan, typ string) *plan.Resource {
	for i := range p.Resources {
		if p.Resources[i].Type == typ {
			return &p.Resources[i]
		}
	}
	t.Fatalf("no %s", typ)
	return nil
}

func named(t *testing.T, p *plan.Plan, typ, name string) *plan.Resource {
	for i := range p.Resources {
		if p.Resources[i].Type == typ && p.Resources[i].Name == name {
			return &p.Resources[i]
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return nil
}

func addStatement(t *testing.T, p *plan.Plan, stmt map[string]any) {
	pol := named(t, p, "aws:iam/policy:Policy", "airbyte-role-airbyte")
	doc := pol.Inputs["policy"].(map[string]any)
	doc["Statement"] = append(doc["Statement"].([]any), stmt)
}

// breaks makes each rule fail on purpose, on a copy of the prod plan.
var breaks = map[string]func(t *testing.T, p *plan.Plan){
	// Temporal without host name verification still connects: a guardrail.
	plan.RuleDatabaseTLS: func(t *testing.T, p *plan.Plan) {
		objectNamed(t, p, "airbyte", "ConfigMap", "airbyte-airbyte-env").Body["data"].(map[string]any)["POSTGRES_TLS_DISABLE_HOST_VERIFICATION"] = "true"
	},
	// A wait nothing needs only makes the deploy longer.
	plan.RuleWaits: func(t *testing.T, p *plan.Plan) {
		addDependency(t, p, "airbyte", "kubernetes:external-secrets.io/v1:ExternalSecret", "airflow-metadata")
	},
	"S3-001": func(t *testing.T, p *plan.Plan) {
		r := first(t, p, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
		r.Inputs["rules"].([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "AES256"}
	},
	"S3-002": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").Inputs["blockPublicPolicy"] = false
	},
	"S3-003": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:s3/bucketPolicy:BucketPolicy").Inputs["policy"] = map[string]any{"Statement": []any{}}
	},
	"S3-004": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").Inputs["rule"] = map[string]any{"objectOwnership": "ObjectWriter"}
	},
	"S3-005": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:s3/bucketVersioningV2:BucketVersioningV2").Inputs["versioningConfiguration"] = map[string]any{"status": "Suspended"}
	},
	"RDS-001": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:rds/instance:Instance").Inputs["storageEncrypted"] = false
	},
	"RDS-002": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:rds/instance:Instance").Inputs["publiclyAccessible"] = true
	},
	"RDS-003": func(t *testing.T, p *plan.Plan) {
		named(t, p, "aws:rds/instance:Instance", "airbyte-db").Inputs["backupRetentionPeriod"] = 1.0
	},
	"RDS-004": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:rds/instance:Instance").Inputs["deletionProtection"] = false
	},
	"RDS-005": func(t *testing.T, p *plan.Plan) {
		named(t, p, "aws:rds/instance:Instance", "airflow-db").Inputs["multiAz"] = false
	},
	"RDS-006": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:rds/parameterGroup:ParameterGroup").Inputs["parameters"] = []any{}
	},
	"EKS-001": func(t *testing.T, p *plan.Plan) {
		delete(first(t, p, "aws:eks/cluster:Cluster").Inputs, "encryptionConfig")
	},
	"EKS-002": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:eks/cluster:Cluster").Inputs["enabledClusterLogTypes"] = []any{"api"}
	},
	"EKS-003": func(t *testing.T, p *plan.Plan) {
		vpc := first(t, p, "aws:eks/cluster:Cluster").Inputs["vpcConfig"].(map[string]any)
		vpc["endpointPublicAccess"] = true
		vpc["publicAccessCidrs"] = []any{"0.0.0.0/0"}
	},
	"EKS-004": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:eks/cluster:Cluster").Inputs["accessConfig"].(map[string]any)["authenticationMode"] = "API_AND_CONFIG_MAP"
	},
	"EKS-005": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:ec2/launchTemplate:LaunchTemplate").Inputs["metadataOptions"].(map[string]any)["httpPutResponseHopLimit"] = 2.0
	},
	"EC2-001": func(t *testing.T, p *plan.Plan) {
		// prod has no instance of its own: dev's NAT instance, with IMDSv1.
		inst := first(t, clone(t, stackPlan(t, "dev")), "aws:ec2/instance:Instance")
		inst.Inputs["metadataOptions"].(map[string]any)["httpTokens"] = "optional"
		p.Resources = append(p.Resources, *inst)
	},
	"IAM-001": func(t *testing.T, p *plan.Plan) {
		addStatement(t, p, map[string]any{"Effect": "Allow", "Action": []any{"s3:*"}, "Resource": []any{"arn:aws:s3:::x"}})
	},
	"IAM-002": func(t *testing.T, p *plan.Plan) {
		addStatement(t, p, map[string]any{"Effect": "Allow", "Action": []any{"s3:PutObject"}, "Resource": []any{"*"}})
	},
	"IAM-003": func(t *testing.T, p *plan.Plan) {
		addStatement(t, p, map[string]any{"Effect": "Allow", "Action": []any{"iam:PassRole"}, "Resource": []any{"arn:aws:iam::123456789012:role/*"}})
	},
	"IAM-004": func(t *testing.T, p *plan.Plan) {
		r := named(t, p, "aws:iam/role:Role", "airflow-role")
		stmt := r.Inputs["assumeRolePolicy"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
		cond := stmt["Condition"].(map[string]any)
		cond["StringLike"] = cond["StringEquals"]
		delete(cond, "StringEquals")
	},
	"NET-001": func(t *testing.T, p *plan.Plan) {
		p.Resources = append(p.Resources, plan.Resource{URN: "urn:x", Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Name: "ssh",
			Inputs: map[string]any{"cidrIpv4": "0.0.0.0/0", "fromPort": 22.0, "toPort": 22.0, "ipProtocol": "tcp",
				"tags": map[string]any{"Project": "p", "Environment": "e", "ManagedBy": "m"}}})
	},
	"NET-002": func(t *testing.T, p *plan.Plan) {
		var kept []plan.Resource
		for _, r := range p.Resources {
			if r.Type != "aws:ec2/flowLog:FlowLog" {
				kept = append(kept, r)
			}
		}
		p.Resources = kept
	},
	"KMS-001": func(t *testing.T, p *plan.Plan) { first(t, p, "aws:kms/key:Key").Inputs["enableKeyRotation"] = false },
	"SM-001": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:secretsmanager/secret:Secret").Inputs["kmsKeyId"] = "alias/aws/secretsmanager"
	},
	"SEC-001": func(t *testing.T, p *plan.Plan) {
		v := named(t, p, "kubernetes:helm.sh/v3:Release", "airflow").Inputs["values"].(map[string]any)
		v["createUserJob"].(map[string]any)["defaultUser"].(map[string]any)["password"] = "admin"
	},
	"IAM-005": func(t *testing.T, p *plan.Plan) {
		addStatement(t, p, map[string]any{"Effect": "Allow", "Action": []any{"secretsmanager:GetSecretValue"}, "Resource": []any{"arn:aws:secretsmanager:us-east-1:123456789012:secret:*"}})
	},
	"IAM-006": func(t *testing.T, p *plan.Plan) {
		addStatement(t, p, map[string]any{"Effect": "Allow", "Action": []any{"secretsmanager:GetSecretValue"},
			"Resource": []any{"arn:aws:secretsmanager:us-east-1:123456789012:secret:dataplatform-prod/airflow/platform-AbCdEf"}})
	},
	"K8S-001": func(t *testing.T, p *plan.Plan) {
		container(t, p, "airflow", "Deployment", "airflow-scheduler")["securityContext"] = map[string]any{"privileged": true}
	},
	"K8S-002": func(t *testing.T, p *plan.Plan) {
		podSpec(t, p, "airflow", "Deployment", "airflow-scheduler")["hostNetwork"] = true
	},
	"K8S-003": func(t *testing.T, p *plan.Plan) {
		spec := podSpec(t, p, "airflow", "Deployment", "airflow-scheduler")
		spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "docker", "hostPath": map[string]any{"path": "/var/run"}})
	},
	"K8S-004": func(t *testing.T, p *plan.Plan) {
		delete(container(t, p, "airflow", "Deployment", "airflow-scheduler"), "resources")
	},
	"K8S-005": func(t *testing.T, p *plan.Plan) {
		// The scheduler runs as the task pods' account.
		podSpec(t, p, "airflow", "Deployment", "airflow-scheduler")["serviceAccountName"] = "airflow-worker"
	},
	"K8S-006": func(t *testing.T, p *plan.Plan) {
		// The scheduler's pod-launching Role bound to the task pods' account.
		b := named(t, p, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "airflow-pod-launcher")
		b.Inputs["subjects"].([]any)[0].(map[string]any)["name"] = "airflow-worker"
	},
	"K8S-007": func(t *testing.T, p *plan.Plan) {
		p.Resources = append(p.Resources, plan.Resource{URN: "urn:pulumi:prod::dataplatform::kubernetes:external-secrets.io/v1:ClusterSecretStore::everything",
			Type: "kubernetes:external-secrets.io/v1:ClusterSecretStore", Name: "everything",
			Inputs: map[string]any{"metadata": map[string]any{"name": "everything"}, "spec": map[string]any{"provider": map[string]any{"aws": map[string]any{"service": "SecretsManager"}}}}})
	},
	"K8S-008": func(t *testing.T, p *plan.Plan) {
		r := named(t, p, "kubernetes:rbac.authorization.k8s.io/v1:Role", "airbyte")
		r.Inputs["rules"].([]any)[1].(map[string]any)["apiGroups"] = []any{"*"}
	},
	"AUD-001": func(t *testing.T, p *plan.Plan) {
		tr := first(t, p, "aws:cloudtrail/trail:Trail")
		tr.Inputs["advancedEventSelectors"] = tr.Inputs["advancedEventSelectors"].([]any)[:1]
	},
	"AUD-002": func(t *testing.T, p *plan.Plan) {
		tr := first(t, p, "aws:cloudtrail/trail:Trail")
		tr.Inputs["advancedEventSelectors"] = tr.Inputs["advancedEventSelectors"].([]any)[1:]
	},
	"AUD-003": func(t *testing.T, p *plan.Plan) {
		first(t, p, "aws:cloudtrail/trail:Trail").Inputs["enableLogFileValidation"] = false
	},
	"TAG-001":  func(t *testing.T, p *plan.Plan) { delete(first(t, p, "aws:ec2/subnet:Subnet").Inputs, "tags") },
	"PROT-001": func(t *testing.T, p *plan.Plan) { first(t, p, "aws:s3/bucketV2:BucketV2").Protect = false },
}

func TestEveryRuleFailsOnABadResource(t *testing.T) {
	rules := policy.Rules()
	ids := map[string]bool{}
	for _, r := range rules {
		assert.False(t, ids[r.ID], "rule %s is defined twice", r.ID)
		ids[r.ID] = true
		assert.NotEmpty(t, r.Description, r.ID)
		assert.NotEmpty(t, r.Control, r.ID)
		assert.Contains(t, []policy.Severity{policy.High, policy.Medium, policy.Low}, r.Severity, r.ID)
		_, tested := breaks[r.ID]
		assert.True(t, tested, "rule %s has no test that makes it fail", r.ID)
	}
	for id, brk := range breaks {
		t.Run(id, func(t *testing.T) {
			require.True(t, ids[id], "no rule %s", id)
			p := clone(t, stackPlan(t, "prod"))
			brk(t, p)
			rep, err := policy.Evaluate(p, nil)
			require.NoError(t, err)
			var got []string
			for _, v := range rep.Violations {
				got = append(got, v.Rule)
			}
			assert.Contains(t, got, id)
			for _, v := range rep.Violations {
				assert.Equal(t, id, v.Rule, "breaking %s must not trip %s: %s", id, v.Rule, v.Message)
			}
		})
	}
}

// podSpec returns the pod template of a workload a release renders.
func podSpec(t *testing.T, p *plan.Plan, releaseName, kind, name string) map[string]any {
	t.Helper()
	spec, ok := plan.PodSpec(objectNamed(t, p, releaseName, kind, name).Body, kind)
	require.True(t, ok)
	return spec
}

// container returns the first container of a workload a release renders.
func container(t *testing.T, p *plan.Plan, releaseName, kind, name string) map[string]any {
	t.Helper()
	return podSpec(t, p, releaseName, kind, name)["containers"].([]any)[0].(map[string]any)
}

// A statement on "*" passes IAM-002 only for actions without
// resource-level permissions (an explicit list, not a verb prefix), or
// with a condition that narrows the resources.
func TestResourceStarNeedsAnUnscopableActionOrAScopingCondition(t *testing.T) {
	for name, tc := range map[string]struct {
		stmt map[string]any
		want []string
	}{
		"a Get verb is no exemption": {map[string]any{"Effect": "Allow", "Action": []any{"secretsmanager:GetSecretValue"}, "Resource": []any{"*"}}, []string{"IAM-002", "IAM-005"}},
		"a region condition does not scope": {map[string]any{"Effect": "Allow", "Action": []any{"s3:PutObject"}, "Resource": []any{"*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": []any{"us-east-1"}}}}, []string{"IAM-002"}},
		"a tag condition scopes": {map[string]any{"Effect": "Allow", "Action": []any{"ec2:TerminateInstances"}, "Resource": []any{"*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/owner": []any{"me"}}}}, nil},
		"a listed action without resource-level permissions": {map[string]any{"Effect": "Allow", "Action": []any{"ec2:DescribeSubnets"}, "Resource": []any{"*"}}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			p := clone(t, stackPlan(t, "prod"))
			addStatement(t, p, tc.stmt)
			rep, err := policy.Evaluate(p, nil)
			require.NoError(t, err)
			var got []string
			for _, v := range rep.Violations {
				got = append(got, v.Rule)
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestWaiversMustNameARuleAndAReason(t *testing.T) {
	p := stackPlan(t, "dev")
	_, err := policy.Evaluate(p, []policy.Waiver{{Rule: "RDS-999", Reason: "because we can, really"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no rule "RDS-999"`)
	_, err = policy.Evaluate(p, []policy.Waiver{{Rule: "RDS-005", Reason: "meh"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reason")
}

func TestPolicyCommandFailsWithTheRuleID(t *testing.T) {
	dir := projectCopy(t)
	prod, err := os.ReadFile(filepath.Join(projectDir, "Pulumi.prod.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(prod), "    multiAz: true\n", "    multiAz: false\n", 1)
	require.NotEqual(t, string(prod), bad)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.broken.yaml"), []byte(bad), 0o600))

	var out, errOut bytes.Buffer
	assert.Equal(t, 0, cli.Main([]string{"-dir", dir, "-stack", "prod", "-policy"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "43 rules")
	assert.Contains(t, out.String(), "PASSED")

	out.Reset()
	assert.Equal(t, 1, cli.Main([]string{"-dir", dir, "-stack", "broken", "-deploy-role", "pulumi-deploy-prod", "-policy"}, &out, &errOut))
	assert.Contains(t, out.String(), "RDS-005")
	assert.Contains(t, out.String(), "FAILED")
}
