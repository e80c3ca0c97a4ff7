package tests

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/plan/cli"
	"github.com/dataplatform/dataplatform/policy"
	"github.com/dataplatform/dataplatform/verify"
)

// `cmd/plan -rules` lists every rule of the three fronts, each once, with
// its kind and source; the guardrails keep the IDs the stack files' waivers
// name.
func TestEveryRuleIsListedWithItsKindAndSource(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 0, cli.Main([]string{"-rules", "-json"}, &out, &errOut), errOut.String())
	var listed []verify.Rule
	require.NoError(t, json.Unmarshal(out.Bytes(), &listed))
	byID := map[string]verify.Rule{}
	for _, r := range listed {
		byID[r.ID] = r
		assert.NotEmpty(t, r.Source, r.ID)
	}
	for _, r := range mocks.Rules() {
		assert.Equal(t, verify.Refusal, byID[r.ID].Kind, "fake AWS rule %s", r.ID)
	}
	for _, c := range plan.ObjectChecks() {
		assert.Equal(t, verify.Refusal, byID[c.ID].Kind, "object check %s", c.ID)
	}
	for _, r := range policy.Rules() {
		got := byID[r.ID]
		assert.Equal(t, verify.Guardrail, got.Kind, "guardrail %s", r.ID)
		assert.Equal(t, r.Severity, got.Severity, r.ID)
		assert.Equal(t, r.Control, got.Source, r.ID)
	}
	assert.Len(t, listed, len(mocks.Rules())+len(plan.ObjectChecks())+1+len(policy.Rules()), "and nothing else but helm/render")
	for _, stack := range []string{"dev", "prod"} {
		cfg := section(t, stackOptions(t, stack), "dataplatform:policy")
		waivers, _ := cfg["waivers"].([]any)
		for _, w := range waivers {
			id := w.(map[string]any)["rule"].(string)
			assert.Equal(t, verify.Guardrail, byID[id].Kind, "%s waives %s, a guardrail", stack, id)
		}
	}

	// Negative controls: a rule registered twice, a guardrail without
	// severity, a refusal without source.
	assert.PanicsWithValue(t, `verify: rule "k8s/db-tls" registered twice`, func() {
		verify.Register(verify.Rule{ID: plan.RuleDatabaseTLS, Kind: verify.Refusal, Source: "x"})
	})
	assert.PanicsWithValue(t, `verify: rule "X-001": a guardrail has a severity, a refusal none`, func() {
		verify.Register(verify.Rule{ID: "X-001", Kind: verify.Guardrail, Source: "a control"})
	})
	assert.PanicsWithValue(t, `verify: rule "k8s/x" needs an ID, a kind (refusal or guardrail) and a source`, func() {
		verify.Register(verify.Rule{ID: "k8s/x", Kind: verify.Refusal})
	})
	_, ok := verify.Lookup("X-001")
	assert.False(t, ok)
}
