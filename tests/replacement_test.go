package tests

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

var updateDeployed = flag.Bool("update-deployed", false, "rewrite testdata/deployed/<stack>.json from today's plans: do it when a release is cut, never to make this test pass")

// deployed reads the identities of what the last release deployed on a
// stack (cmd/plan -identities of that release).
func deployed(t *testing.T, stack string) *plan.Plan {
	t.Helper()
	path := filepath.Join("testdata", "deployed", stack+".json")
	if *updateDeployed {
		b, err := json.MarshalIndent(stackPlan(t, stack).Identities(), "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	p, err := plan.ReadJSON(path)
	require.NoError(t, err)
	return p
}

// An upgrade must not delete or replace what a stack runs: a bucket, a
// database, a role other accounts trust, a namespace with its volumes.
// Moving a resource into a component changes its URN; without an alias
// Pulumi deletes the old one and creates a new one.
func TestNoDeployedResourceIsDeletedOrReplaced(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		d := plan.Compare(deployed(t, stack), stackPlan(t, stack))
		require.Empty(t, d.Removed, "%s: `pulumi up` would delete these (moved without an alias?)", stack)
		require.Empty(t, d.Replaced, "%s: `pulumi up` would replace these", stack)
	}
}

// reparent moves the resource of type typ and name under parent, with all
// its descendants, as a program that creates it elsewhere would: every URN
// below it changes.
func reparent(p *plan.Plan, typ, name, parent string, aliases []plan.Alias) *plan.Plan {
	out := &plan.Plan{Stack: p.Stack, Resources: append([]plan.Resource(nil), p.Resources...)}
	moved := map[string]string{}
	for i, r := range out.Resources {
		if r.Type == typ && r.Name == name {
			moved[r.URN] = string(resource.CreateURN(r.Name, r.Type, resource.URN(parent), "dataplatform", p.Stack))
			out.Resources[i].URN, out.Resources[i].Parent, out.Resources[i].Aliases = moved[r.URN], parent, aliases
		}
	}
	for changed := true; changed; {
		changed = false
		for i, r := range out.Resources {
			if np, ok := moved[r.Parent]; ok {
				if _, done := moved[r.URN]; !done {
					moved[r.URN] = string(resource.CreateURN(r.Name, r.Type, resource.URN(np), "dataplatform", p.Stack))
					changed = true
				}
				out.Resources[i].Parent = np
			}
		}
		for i, r := range out.Resources {
			if nu, ok := moved[r.URN]; ok {
				out.Resources[i].URN = nu
			}
		}
	}
	return out
}

// Negative controls: the check sees a move without an alias, adopts a move
// with one (children by the engine's inherited aliases), and sees a rename
// of a physical object.
func TestTheReplacementCheckSeesMovesWithoutAliasesAndRenames(t *testing.T) {
	base := deployed(t, "dev")
	now := stackPlan(t, "dev")
	const role, roleType = "airflow-role", "dataplatform:identity:IrsaRole"
	airflowURN := ""
	for _, r := range now.Resources {
		if r.Type == "dataplatform:airflow:Airflow" {
			airflowURN = r.URN
		}
	}
	require.NotEmpty(t, airflowURN)

	d := plan.Compare(base, reparent(now, roleType, role, airflowURN, nil))
	var removed []string
	for _, r := range d.Removed {
		removed = append(removed, r.Type+" "+r.Name)
	}
	require.Contains(t, removed, roleType+" "+role)
	require.Contains(t, removed, "aws:iam/role:Role "+role, "the role's own children move with it")
	require.Empty(t, d.Replaced)

	d = plan.Compare(base, reparent(now, roleType, role, airflowURN, []plan.Alias{{NoParent: true}}))
	require.Empty(t, d.Removed, "an alias to the old parent keeps the component and, inherited, its children")
	var parentChanged bool
	for _, c := range d.Changed {
		if c.Name == role && c.Type == roleType {
			parentChanged = true
			require.Equal(t, "urn", c.Fields[0].Path)
		}
	}
	require.True(t, parentChanged, "the move shows as a change of URN and parent")

	renamed := &plan.Plan{Stack: now.Stack, Resources: append([]plan.Resource(nil), now.Resources...)}
	for i, r := range renamed.Resources {
		if r.Type == "aws:iam/role:Role" && r.Name == role {
			in := map[string]any{}
			for k, v := range r.Inputs {
				in[k] = v
			}
			in["name"] = "another-name"
			renamed.Resources[i].Inputs = in
		}
	}
	d = plan.Compare(base, renamed)
	require.Len(t, d.Replaced, 1)
	require.Equal(t, "inputs.name", d.Replaced[0].Fields[0].Path)
}
