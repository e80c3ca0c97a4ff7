package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

func platformKeyARN(t *testing.T, p *plan.Plan) string {
	t.Helper()
	arn, _ := p.Outputs["platformKeyArn"].(string)
	require.True(t, strings.HasPrefix(arn, "arn:aws:kms:"), "platform key ARN %q", arn)
	return arn
}

func TestDatabasesArePrivateEncryptedAndManaged(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			p := stackPlan(t, stack)
			key := platformKeyARN(t, p)
			primaries := 0
			for _, db := range p.Find("aws:rds/instance:Instance") {
				in := db.Inputs
				assert.Equal(t, false, in["publiclyAccessible"], db.Name)
				assert.Equal(t, true, in["storageEncrypted"], db.Name)
				assert.Equal(t, key, in["kmsKeyId"], "%s is encrypted with the platform key", db.Name)
				assert.NotContains(t, in, "password", "%s: we never set a password", db.Name)
				if strings.HasSuffix(db.Name, "-replica") {
					continue
				}
				primaries++
				assert.Equal(t, true, in["manageMasterUserPassword"], db.Name)
				assert.Equal(t, key, in["masterUserSecretKmsKeyId"], db.Name)
				assert.Equal(t, true, in["copyTagsToSnapshot"], db.Name)
				assert.Equal(t, "gp3", in["storageType"], db.Name)
				assert.Greater(t, in["maxAllocatedStorage"], in["allocatedStorage"], "%s autoscales storage", db.Name)
				assert.NotEmpty(t, in["enabledCloudwatchLogsExports"], db.Name)
				pg := findByName(t, p, "aws:rds/parameterGroup:ParameterGroup", db.Name)
				assert.True(t, strings.HasPrefix(str(in, "parameterGroupName"), str(pg.Inputs, "namePrefix")), "%s uses its TLS-only parameter group", db.Name)
				assert.Contains(t, db.Dependencies, pg.URN)
				assert.Contains(t, mustJSON(t, pg.Inputs["parameters"]), `"name":"rds.force_ssl","value":"1"`)
				sn := findByName(t, p, "aws:rds/subnetGroup:SubnetGroup", db.Name)
				assert.ElementsMatch(t, p.Outputs["databaseSubnetIds"], sn.Inputs["subnetIds"], "%s lives in the database subnets", db.Name)
				rules := 0
				for _, r := range p.Find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
					if r.Name != db.Name+"-from-nodes" {
						continue
					}
					rules++
					assert.Equal(t, 5432.0, r.Inputs["fromPort"])
					assert.NotContains(t, r.Inputs, "cidrIpv4", "no address range reaches the database")
					assert.True(t, strings.HasPrefix(str(r.Inputs, "referencedSecurityGroupId"), "sg-"))
				}
				assert.Equal(t, 1, rules, "%s admits exactly the nodes", db.Name)
			}
			want := map[string]int{"dev": 1, "prod": 2}[stack] // dev: database.sharedInstance
			assert.Equal(t, want, primaries, "instances per stack")
		})
	}
}

func TestProdDatabasesAreHighlyAvailableAndProtected(t *testing.T) {
	prod := stackPlan(t, "prod")
	dbs := prod.Find("aws:rds/instance:Instance")
	require.Len(t, dbs, 4, "two primaries and their replicas")
	for _, db := range dbs {
		assert.True(t, db.Protect, "%s is protected from pulumi destroy", db.Name)
		assert.Equal(t, true, db.Inputs["deletionProtection"], db.Name)
		if strings.HasSuffix(db.Name, "-replica") {
			assert.Equal(t, str(findByName(t, prod, "aws:rds/instance:Instance", strings.TrimSuffix(db.Name, "-replica")).Inputs, "identifier"), db.Inputs["replicateSourceDb"])
			continue
		}
		assert.Equal(t, true, db.Inputs["multiAz"], db.Name)
		assert.GreaterOrEqual(t, db.Inputs["backupRetentionPeriod"], 7.0, db.Name)
		assert.Equal(t, false, db.Inputs["skipFinalSnapshot"], db.Name)
		assert.Equal(t, true, db.Inputs["performanceInsightsEnabled"], db.Name)
	}
	dev := stackPlan(t, "dev")
	for _, db := range dev.Find("aws:rds/instance:Instance") {
		assert.False(t, db.Protect)
		assert.Equal(t, false, db.Inputs["multiAz"])
		assert.Equal(t, 1.0, db.Inputs["backupRetentionPeriod"])
	}
}

func TestBucketsArePrivateEncryptedAndTLSOnly(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			p := stackPlan(t, stack)
			key := platformKeyARN(t, p)
			buckets := p.Find("aws:s3/bucketV2:BucketV2")
			require.Len(t, buckets, 3, "Airbyte's, Airflow's logs, the audit trail's")
			for _, b := range buckets {
				name := str(b.Inputs, "bucket")
				settings := func(typ string) map[string]any {
					for _, r := range p.Find(typ) {
						if r.Inputs["bucket"] == name {
							return r.Inputs
						}
					}
					t.Fatalf("bucket %s has no %s", name, typ)
					return nil
				}
				pab := settings("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					assert.Equal(t, true, pab[k], "%s %s", name, k)
				}
				assert.Equal(t, "BucketOwnerEnforced", str(settings("aws:s3/bucketOwnershipControls:BucketOwnershipControls"), "rule", "objectOwnership"))
				sse := settings("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")["rules"].([]any)[0].(map[string]any)
				assert.Equal(t, true, sse["bucketKeyEnabled"])
				assert.Equal(t, "aws:kms", str(sse, "applyServerSideEncryptionByDefault", "sseAlgorithm"))
				assert.Equal(t, key, str(sse, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"))
				assert.Equal(t, "Enabled", str(settings("aws:s3/bucketVersioningV2:BucketVersioningV2"), "versioningConfiguration", "status"))
				policy := mustJSON(t, settings("aws:s3/bucketPolicy:BucketPolicy")["policy"])
				assert.Contains(t, policy, `"Effect":"Deny"`)
				assert.Contains(t, policy, `"aws:SecureTransport":["false"]`)
				lifecycle := mustJSON(t, settings("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"))
				assert.Contains(t, lifecycle, `"noncurrentVersionExpiration"`)
				assert.Contains(t, lifecycle, `"expiration"`, "logs expire")
				assert.Equal(t, stack == "prod", b.Protect, name)
				assert.Equal(t, stack == "dev", b.Inputs["forceDestroy"], name)
			}
		})
	}
}

func TestKeysRotateAndSecretsUseThePlatformKey(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		for _, k := range p.Find("aws:kms/key:Key") {
			assert.Equal(t, true, k.Inputs["enableKeyRotation"], "%s %s", stack, k.Name)
		}
		secrets := p.Find("aws:secretsmanager/secret:Secret")
		require.NotEmpty(t, secrets)
		for _, s := range secrets {
			assert.Equal(t, platformKeyARN(t, p), s.Inputs["kmsKeyId"], s.Name)
		}
		for _, v := range p.Find("aws:secretsmanager/secretVersion:SecretVersion") {
			assert.Equal(t, "[secret]", v.Inputs["secretString"], v.Name)
		}
		key := findByName(t, p, "aws:kms/key:Key", "secrets-platform")
		assert.Equal(t, stack == "prod", key.Protect, "prod's platform key is protected")
	}
}

func TestNoSecretValueAppearsInThePlan(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		generated := p.GeneratedSecrets()
		require.GreaterOrEqual(t, len(generated), 4, "the mocks generated the passwords and keys")
		b, err := p.JSON()
		require.NoError(t, err)
		var tree strings.Builder
		require.NoError(t, p.WriteTree(&tree))
		for _, s := range generated {
			for _, form := range []string{s, strings.NewReplacer("+", "-", "/", "_").Replace(s)} {
				if len(form) < 8 {
					continue
				}
				assert.NotContains(t, string(b), form, "%s: a secret leaks into the plan JSON", stack)
				assert.NotContains(t, tree.String(), form, "%s: a secret leaks into the plan tree", stack)
			}
		}
	}
}

func TestNoPolicyGrantsEverything(t *testing.T) {
	// Actions without resource-level permissions: "*" is the narrowest AWS allows.
	unscopable := func(action string) bool {
		_, verb, _ := strings.Cut(action, ":")
		readOnly := strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List")
		return readOnly || strings.HasPrefix(action, "shield:") || action == "pricing:GetProducts"
	}
	for _, stack := range []string{"dev", "prod"} {
		for name, stmts := range policyStatements(t, stackPlan(t, stack)) {
			for _, s := range stmts {
				if s["Effect"] == "Deny" {
					continue // a Deny of everything narrows, never grants
				}
				actions := plan.Strings(s["Action"])
				for _, a := range actions {
					assert.NotEqual(t, "*", a, "%s: Action *", name)
					assert.False(t, strings.HasSuffix(a, ":*"), "%s: %s", name, a)
				}
				for _, r := range plan.Strings(s["Resource"]) {
					if r != "*" || s["Condition"] != nil {
						continue // scoped by resource or by condition
					}
					for _, a := range actions {
						assert.True(t, unscopable(a), "%s: %s on Resource * where AWS allows narrower", name, a)
					}
				}
			}
		}
	}
}

func TestAppRolesTrustExactlyTheirServiceAccountsAndReachOnlyTheirData(t *testing.T) {
	p := stackPlan(t, "prod")
	trusts := roleTrusts(t, p)
	subjects := func(role string) []any {
		for k, v := range trusts[role][0]["Condition"].(map[string]any)["StringEquals"].(map[string]any) {
			if strings.HasSuffix(k, ":sub") {
				return v.([]any)
			}
		}
		return nil
	}
	assert.Equal(t, []any{"system:serviceaccount:airbyte:airbyte-admin"}, subjects("airbyte-role"))
	assert.Equal(t, []any{"system:serviceaccount:airbyte:airbyte-jobs"}, subjects("airbyte-jobs-role"))
	assert.ElementsMatch(t, []any{
		"system:serviceaccount:airflow:airflow-api-server", "system:serviceaccount:airflow:airflow-dag-processor",
		"system:serviceaccount:airflow:airflow-scheduler", "system:serviceaccount:airflow:airflow-triggerer",
	}, subjects("airflow-role"))
	assert.Equal(t, []any{"system:serviceaccount:airflow:airflow-worker"}, subjects("airflow-tasks-role"))

	stmts := policyStatements(t, p)
	airbyteBucket := "arn:aws:s3:::" + p.Outputs["airbyteBucket"].(string)
	airflowBucket := "arn:aws:s3:::" + p.Outputs["airflowLogBucket"].(string)
	for _, s := range append(stmts["airbyte-role-airbyte"], stmts["airbyte-jobs-role-airbyte-jobs"]...) {
		for _, r := range plan.Strings(s["Resource"]) {
			if strings.HasPrefix(r, "arn:aws:s3:") {
				assert.True(t, strings.HasPrefix(r, airbyteBucket), "Airbyte reaches %s", r)
			}
			if strings.HasPrefix(r, "arn:aws:secretsmanager:") && r != "*" {
				assert.Regexp(t, `:secret:airbyte_\*$`, r, "Airbyte's secrets are those it names airbyte_*")
				assert.Contains(t, mustJSON(t, s), "AirbyteManaged", "Airbyte's secrets access is limited to its tagged secrets")
			}
		}
	}
	// Connector code reads Airbyte's secrets but cannot create, change or
	// list any.
	var jobActions []string
	for _, s := range stmts["airbyte-jobs-role-airbyte-jobs"] {
		jobActions = append(jobActions, plan.Strings(s["Action"])...)
	}
	assert.ElementsMatch(t, []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "secretsmanager:GetSecretValue",
		"secretsmanager:DescribeSecret", "kms:Decrypt", "kms:GenerateDataKey"}, jobActions)
	for _, s := range append(stmts["airflow-role-airflow"], stmts["airflow-tasks-role-airflow-tasks"]...) {
		for _, r := range plan.Strings(s["Resource"]) {
			if strings.HasPrefix(r, "arn:aws:s3:") {
				assert.True(t, r == airflowBucket || r == airflowBucket+"/logs/*", "Airflow reaches %s", r)
			}
			if strings.HasPrefix(r, "arn:aws:secretsmanager:") {
				assert.Regexp(t, `:secret:dataplatform-prod/airflow/(connections|variables)/\*$`, r)
			}
		}
	}
}
