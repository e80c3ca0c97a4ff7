package tests

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/policy"
	"github.com/dataplatform/dataplatform/policy/pack"
)

// startPack serves the policy pack as `pulumi preview --policy-pack`
// starts it (policyx.Main, which prints its port), and returns a client.
func startPack(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	go func() { _ = policyx.Main(pack.New) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	os.Stdout = stdout
	require.NoError(t, err)
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(line), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

// analyzeStack hands the pack the plan's resources as the engine does at
// the end of a preview, and returns the diagnostics by policy.
func analyzeStack(t *testing.T, client pulumirpc.AnalyzerClient, stack string, config map[string]string, records []mocks.Record) map[string][]*pulumirpc.AnalyzeDiagnostic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := projectDir + "/policypack"
	_, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &root})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Stack: stack, Project: "dataplatform", Config: config, DryRun: true})
	require.NoError(t, err)
	var resources []*pulumirpc.AnalyzerResource
	for _, r := range records {
		props, err := plugin.MarshalProperties(r.Inputs, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true})
		require.NoError(t, err)
		resources = append(resources, &pulumirpc.AnalyzerResource{Type: r.Type, Urn: r.URN, Name: r.Name, Properties: props, Parent: r.Parent, Dependencies: r.Dependencies,
			Options: &pulumirpc.AnalyzerResourceOptions{Protect: r.Protect}})
	}
	resp, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: resources})
	require.NoError(t, err)
	out := map[string][]*pulumirpc.AnalyzeDiagnostic{}
	for _, d := range resp.GetDiagnostics() {
		out[d.GetPolicyName()] = append(out[d.GetPolicyName()], d)
	}
	return out
}

// The guardrails run at the real deploy as a policy pack: over prod's
// resources it finds what -policy finds (nothing), sees the Helm releases'
// rendered objects, and refuses a broken resource, mandatory for a high
// rule; dev's waivers make their rules advisory.
func TestThePolicyPackRunsTheGuardrailsOverTheEnginesResources(t *testing.T) {
	client := startPack(t)
	opts := stackOptions(t, "prod")
	p := stackPlan(t, "prod")
	got := analyzeStack(t, client, "prod", opts.Config, recordsOf(t, p))
	assert.Empty(t, got, "prod breaks no guardrail and every release renders")
	// The engine asks for the policies once the stack is configured
	// (before that, policyx has no pack and fails).
	info, err := client.GetAnalyzerInfo(context.Background(), &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, pack.Name, info.GetName())
	assert.Len(t, info.GetPolicies(), len(policy.Rules())+1)

	// Negative control: a bucket that lets everyone read it (S3 rules),
	// and a pod of a release that runs privileged (the rendered objects).
	rs := recordsOf(t, p)
	bucket := pick(t, rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "")
	bucket.Inputs["blockPublicPolicy"] = resource.NewProperty(false)
	got = analyzeStack(t, client, "prod", opts.Config, rs)
	var refused []string
	for name, ds := range got {
		for _, d := range ds {
			refused = append(refused, name+" "+d.GetEnforcementLevel().String()+" "+d.GetMessage())
		}
	}
	require.NotEmpty(t, refused, "the broken bucket is refused")
	assert.Contains(t, strings.Join(refused, "\n"), "MANDATORY")
	assert.Contains(t, strings.Join(refused, "\n"), bucket.Name)

	// A pod of a release that runs privileged: seen in the objects the pack
	// renders from the release's archive and values.
	rs = recordsOf(t, p)
	release := pick(t, rs, plan.ReleaseType, "airflow")
	values := release.Inputs["values"].ObjectValue().Mappable()
	values["scheduler"].(map[string]any)["securityContexts"] = map[string]any{"container": map[string]any{"privileged": true}}
	release.Inputs["values"] = resource.NewProperty(resource.NewPropertyMapFromMap(values))
	got = analyzeStack(t, client, "prod", opts.Config, rs)
	require.NotEmpty(t, got["K8S-001"], "the privileged scheduler is refused")
	assert.Contains(t, got["K8S-001"][0].GetMessage(), "scheduler")
	assert.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, got["K8S-001"][0].GetEnforcementLevel())

	// dev waives RDS-005 and others: reported, not blocking.
	dev := stackPlan(t, "dev")
	got = analyzeStack(t, client, "dev", stackOptions(t, "dev").Config, recordsOf(t, dev))
	require.NotEmpty(t, got["RDS-005"], "dev's single-AZ database is reported")
	assert.Equal(t, pulumirpc.EnforcementLevel_ADVISORY, got["RDS-005"][0].GetEnforcementLevel(), "a waived rule is advisory")
}
