package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
)

// TestProgramRunsUnderMocks runs the example offline, as CI does on every change.
func TestProgramRunsUnderMocks(t *testing.T) {
	const ns = "airflow-on-existing-cluster:"
	bundle := filepath.Join(t.TempDir(), "us-east-1-bundle.pem")
	require.NoError(t, os.WriteFile(bundle, mocks.RDSCABundle("us-east-1"), 0o600))
	p, err := plan.Run(plan.Options{
		Project: "airflow-on-existing-cluster", Stack: "dev", Program: program,
		Config: map[string]string{
			"aws:region":               "us-east-1",
			ns + "kubeconfig":          `{"apiVersion":"v1","kind":"Config"}`,
			ns + "oidcProviderArn":     "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
			ns + "oidcIssuer":          "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
			ns + "vpcId":               "vpc-0e1d2c3b4a5968778",
			ns + "databaseSubnetIds":   `["subnet-0a3a3a3a3a3a3a3a3","subnet-0b3b3b3b3b3b3b3b3"]`,
			ns + "nodeSecurityGroupId": "sg-0123456789abcdef0",
			ns + "host":                "airflow.example.com",
			ns + "caBundleFile":        bundle,
			ns + "loadBalancerCidrs":   `["10.50.128.0/26","10.50.128.64/26"]`,
			ns + "endpointCidrs":       `["10.50.0.0/19","10.50.32.0/19"]`,
		},
		SecretKeys: []string{ns + "kubeconfig"},
	})
	require.NoError(t, err)
	// What the example deployed before its database admin and IRSA roles
	// moved into components (cmd/plan -identities of that version): an
	// upgrade keeps every resource.
	deployed, err := plan.ReadJSON(filepath.Join("testdata", "deployed.json"))
	require.NoError(t, err)
	d := plan.Compare(deployed, p)
	assert.Empty(t, d.Removed, "an upgrade of the example would delete these")
	assert.Empty(t, d.Replaced, "an upgrade of the example would replace these")
	n := p.Count()
	assert.Zero(t, n["eks:index:Cluster"], "the cluster is not ours")
	assert.Zero(t, n["aws:ec2/vpc:Vpc"])
	assert.Equal(t, 1, n["aws:rds/instance:Instance"])
	assert.Equal(t, 2, n["kubernetes:helm.sh/v3:Release"], "External Secrets and Airflow")
	assert.Equal(t, "http://airflow.example.com", p.Outputs["airflowUrl"])
	for _, r := range p.Resources {
		if r.Type == "pulumi:providers:kubernetes" {
			assert.Equal(t, "[secret]", r.Inputs["kubeconfig"])
		}
	}
}
