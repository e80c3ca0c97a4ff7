package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/policy"
	"github.com/dataplatform/dataplatform/stackconfig"
	"github.com/dataplatform/dataplatform/stacks"
)

// previewEnvironment is the GitHub environment the workflow's real
// preview job runs in for stack, or "" when it has none.
func previewEnvironment(workflow, stack string) string {
	job := workflow[strings.Index(workflow, "  pulumi-preview:"):]
	m := regexp.MustCompile(`\n    environment: (.+)`).FindStringSubmatch(job)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "${{ matrix.stack }}", stack)
}

// CI's real preview runs as a role that only the workflow's protected
// environment may assume, that reads but cannot deploy, decrypt or read
// secret values, and that sees the cluster through the view policy.
func TestThePreviewRoleTrustsTheWorkflowsProtectedEnvironmentOnly(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(projectDir, ".github", "workflows", "preview.yml"))
	require.NoError(t, err)
	workflow := string(raw)
	for _, stack := range []string{"dev", "prod"} {
		p := stackPlan(t, stack)
		role := findByName(t, p, "aws:iam/role:Role", "preview")
		doc := role.Inputs["assumeRolePolicy"].(map[string]any)
		stmts := doc["Statement"].([]any)
		require.Len(t, stmts, 1, stack)
		st := stmts[0].(map[string]any)
		assert.Equal(t, "sts:AssumeRoleWithWebIdentity", strings.Join(plan.Strings(st["Action"]), ","), stack)
		assert.Equal(t, []string{"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, plan.Strings(at(st, "Principal", "Federated")), stack)
		cond := st["Condition"].(map[string]any)
		assert.Equal(t, []string{"StringEquals"}, keysOf(cond), "%s: exact matches only", stack)
		eq := cond["StringEquals"].(map[string]any)
		assert.Equal(t, []string{"sts.amazonaws.com"}, plan.Strings(eq["token.actions.githubusercontent.com:aud"]), stack)
		env := previewEnvironment(workflow, stack)
		assert.Equal(t, "preview-"+stack, env, "the workflow's preview job runs in the protected environment")
		assert.Equal(t, []string{"repo:example-org/dataplatform:environment:" + env}, plan.Strings(eq["token.actions.githubusercontent.com:sub"]), "%s: the role trusts the workflow's environment, nothing else", stack)

		policyARN := findByName(t, p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "preview-read-only").Inputs["policyArn"]
		assert.Equal(t, "arn:aws:iam::aws:policy/ReadOnlyAccess", policyARN, stack)
		deny := findByName(t, p, "aws:iam/rolePolicy:RolePolicy", "preview-denies").Inputs["policy"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
		assert.Equal(t, "Deny", deny["Effect"])
		assert.Subset(t, plan.Strings(deny["Action"]), []string{"secretsmanager:GetSecretValue", "kms:Decrypt", "s3:GetObject*", "sts:AssumeRole"})
		assert.Equal(t, stacks.ViewPolicyARN, findByName(t, p, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "preview-view").Inputs["policyArn"], "%s: the cluster's view policy, not admin", stack)
	}
	assert.NotContains(t, workflow[:strings.Index(workflow, "jobs:")], "id-token", "only the real preview job may ask for an OIDC token")
	assert.Regexp(t, `(?s)pulumi-preview:.*runs-on:\n\s+- self-hosted`, workflow, "a runner the API server admits")

	// Negative controls: a workflow without the environment, and a role
	// that trusts a pull request's subject (guardrail IAM-004).
	without := strings.Replace(workflow, "    environment: preview-${{ matrix.stack }}\n", "", 1)
	assert.Equal(t, "", previewEnvironment(without, "prod"))
	p := clone(t, stackPlan(t, "prod"))
	role := findByName(t, p, "aws:iam/role:Role", "preview")
	eq := at(role.Inputs, "assumeRolePolicy", "Statement").([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	eq["token.actions.githubusercontent.com:sub"] = "repo:example-org/dataplatform:pull_request"
	rep, err := policy.Evaluate(p, nil)
	require.NoError(t, err)
	var got []string
	for _, v := range rep.Violations {
		got = append(got, v.Rule+" "+v.Message)
	}
	assert.Contains(t, strings.Join(got, "\n"), "IAM-004 subject repo:example-org/dataplatform:pull_request is not one GitHub environment")
}

// With a federated identity provider the program reads its client secret
// at every preview: the preview role may read that secret, and no other.
func TestThePreviewRoleMayReadWhatEveryPreviewReads(t *testing.T) {
	secret := "arn:aws:secretsmanager:us-east-1:123456789012:secret:dataplatform-prod/sso/company-idp-AbCdEf"
	opts := stackOptions(t, "prod")
	sso := section(t, opts, "dataplatform:sso")
	sso["externalProvider"] = map[string]any{"name": "CompanyIdP", "issuer": "https://idp.example.com", "clientId": "dataplatform", "clientSecretArn": secret}
	setSection(t, opts, "dataplatform:sso", sso)
	p, err := plan.Run(opts)
	require.NoError(t, err, "the fake AWS lets the preview role make the program's reads")

	env := fakeEnv
	env.Reads = mocks.ReadsOf("aws:secretsmanager/getSecretVersion:getSecretVersion", resource.PropertyMap{"secretId": resource.NewProperty(secret)}, env.Region)
	other := mocks.ReadsOf("aws:secretsmanager/getSecretVersion:getSecretVersion", resource.PropertyMap{"secretId": resource.NewProperty(strings.Replace(secret, "company-idp", "airflow", 1))}, env.Region)
	rs := recordsOf(t, p)
	assert.Empty(t, mocks.Check(rs, env))
	// Negative controls: another secret, and the policy without federation's exception.
	env.Reads = append(env.Reads, other[0])
	v, ok := hasViolation(mocks.Check(rs, env), "across/preview-role-reads", "preview")
	require.True(t, ok)
	assert.Contains(t, v.Message, "may not call secretsmanager:GetSecretValue on "+strings.Replace(secret, "company-idp", "airflow", 1))
	env.Reads = env.Reads[:2]
	r := pick(t, rs, "aws:iam/rolePolicy:RolePolicy", "preview-denies")
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Deny", "Action": stacks.PreviewDenied, "Resource": "*"}}})
	require.NoError(t, err)
	r.Inputs["policy"] = resource.NewProperty(string(b))
	var got []string
	for _, v := range mocks.Check(rs, env) {
		got = append(got, v.Message)
	}
	assert.Contains(t, strings.Join(got, "\n"), "may not call secretsmanager:GetSecretValue on "+secret+" (aws:secretsmanager/getSecretVersion:getSecretVersion): statement 0 denies it")
	assert.Contains(t, strings.Join(got, "\n"), "may not call kms:Decrypt on *")
}

// The preflight lets the preview role preview, and only preview; without
// the ci config the same role is refused as no cluster admin.
func TestThePreflightLetsThePreviewRolePreviewNotDeploy(t *testing.T) {
	opts := stackOptions(t, "prod")
	cfg, err := stackconfig.Parse(opts.Project, opts.Stack, func(k string) string { return opts.Config[k] })
	require.NoError(t, err)
	caller := stacks.Caller{Account: stacks.ExampleAccount, ARN: "arn:aws:sts::123456789012:assumed-role/dataplatform-prod-preview/GitHubActions"}
	require.NoError(t, stacks.CheckAccount(cfg, caller, true))
	err = stacks.CheckAccount(cfg, caller, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataplatform:ci.github: the deploy runs as role dataplatform-prod-preview, the read-only role of CI's previews: it may run `pulumi preview`, not `pulumi up`")
	cfg.CI.GitHub = nil
	err = stacks.CheckAccount(cfg, caller, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the deploy runs as role dataplatform-prod-preview, which is not listed")
}
