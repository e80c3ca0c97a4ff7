// Package tests holds whole-program tests: they run the real program of both
// stacks in-process under mocks (the offline plan) and check the graph that
// `pulumi up` would create.
package tests

import (
	"encoding/json"
	"maps"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

// projectDir is the repository root, where Pulumi.yaml and the stack files are.
const projectDir = ".."

var (
	planCache   = map[string]*plan.Plan{}
	planCacheMu sync.Mutex
)

// stackPlan returns the plan of a stack's own config, computed once per test binary.
func stackPlan(t testing.TB, stack string) *plan.Plan {
	t.Helper()
	planCacheMu.Lock()
	defer planCacheMu.Unlock()
	if p, ok := planCache[stack]; ok {
		return p
	}
	p, err := plan.RunStack(projectDir, stack)
	require.NoError(t, err, "plan of stack %s", stack)
	planCache[stack] = p
	return p
}

// stackOptions returns the run options of a stack's own config, with a fresh
// copy of the config map that a test may change.
func stackOptions(t testing.TB, stack string) plan.Options {
	t.Helper()
	opts, err := plan.LoadOptions(projectDir, stack)
	require.NoError(t, err)
	opts.Config = maps.Clone(opts.Config)
	return opts
}

// section decodes a structured config value of opts for a test to change.
func section(t testing.TB, opts plan.Options, key string) map[string]any {
	t.Helper()
	out := map[string]any{}
	if raw, ok := opts.Config[key]; ok {
		require.NoError(t, json.Unmarshal([]byte(raw), &out))
	}
	return out
}

// setSection encodes a structured config value back into opts.
func setSection(t testing.TB, opts plan.Options, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	opts.Config[key] = string(b)
}

// str and at read a resource's inputs.
var (
	str = plan.StringAt
	at  = plan.At
)
