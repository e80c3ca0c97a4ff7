package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/internal/configedit"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/plan/cli"
)

// badConfig is one invalid stack config: how to break the dev stack's
// config, and the fragments its error message must hold (the field, the value
// and what is allowed). The rows Parse alone refuses are in stackconfig's
// tests (badconfig_test.go), which run without the SDKs.
type badConfig struct {
	name   string
	break_ func(t *testing.T, opts plan.Options)
	want   []string
}

// setIn changes one key, at a dotted path, of a config section (nil
// deletes it), as `pulumi config set --path` would.
func setIn(key, path string, value any) func(t *testing.T, opts plan.Options) {
	return func(t *testing.T, opts plan.Options) {
		require.NoError(t, configedit.SetIn(opts.Config, key, path, value))
	}
}

// setNetwork changes one key of the dataplatform:network section.
func setNetwork(key string, value any) func(t *testing.T, opts plan.Options) {
	return setIn("dataplatform:network", key, value)
}

func setRaw(key, value string) func(t *testing.T, opts plan.Options) {
	return func(t *testing.T, opts plan.Options) { opts.Config[key] = value }
}

// programBadConfigs are refused by the program, not by Parse: what AWS
// answers (the region's zones and partition) and the committed CA bundle.
// The first rows are Parse's, to show that its refusals stop the program
// too, with the misspelt-key check that only the program runs over every key.
var programBadConfigs = []badConfig{
	{"cidr prefix out of range", setNetwork("cidrBlock", "10.0.0.0/33"),
		[]string{"dataplatform:network.cidrBlock", `"10.0.0.0/33"`, "IPv4 CIDR"}},
	{"misspelt section", setRaw("dataplatform:netwrok", `{"cidrBlock":"10.0.0.0/16"}`),
		[]string{"dataplatform:netwrok", "unknown key", "dataplatform:network"}},
	{"more zones than the region has", func(t *testing.T, opts plan.Options) {
		opts.Config["aws:region"] = "eu-west-1"
		setNetwork("azCount", 4)(t, opts)
	}, []string{"dataplatform:network.azCount", "at most 3", "got 4"}},
	{"a region outside the commercial partition", func(t *testing.T, opts plan.Options) { opts.Config["aws:region"] = "cn-north-1" },
		// Reported with the region's missing CA bundle, at once.
		[]string{"aws:region", `partition "aws-cn"`, "dataplatform:database.caBundleFile", "cn-north-1-bundle.pem"}},
}

func TestBadConfigIsRejectedBeforeAnyResourceIsRegistered(t *testing.T) {
	for _, c := range programBadConfigs {
		t.Run(c.name, func(t *testing.T) {
			opts := stackOptions(t, "dev")
			c.break_(t, opts)
			p, err := plan.Run(opts)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			require.NotNil(t, p)
			assert.Empty(t, p.Resources, "nothing may be created from bad config")
		})
	}
}

func TestEveryConfigProblemIsReportedAtOnce(t *testing.T) {
	opts := stackOptions(t, "dev")
	n := section(t, opts, "dataplatform:network")
	n["cidrBlock"] = "10.0.0.0/33"
	n["natStrategy"] = "Double"
	n["flowLogs"] = map[string]any{"trafficType": "SOME"}
	setSection(t, opts, "dataplatform:network", n)
	opts.Config["dataplatform:name"] = "X"
	_, err := plan.Run(opts)
	require.Error(t, err)
	for _, field := range []string{"network.cidrBlock", "network.natStrategy", "network.flowLogs.trafficType", "dataplatform:name"} {
		assert.Contains(t, err.Error(), field)
	}
	assert.Contains(t, err.Error(), "4 problems")
}

func TestPlanCommand(t *testing.T) {
	dir := projectCopy(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.bad.yaml"), []byte(
		"config:\n  aws:region: us-east-1\n  dataplatform:network:\n    natStrategy: Double\n"), 0o600))

	t.Run("json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := cli.Main([]string{"-dir", dir, "-stack", "dev", "-json"}, &out, &errOut)
		require.Equal(t, 0, code, errOut.String())
		var doc struct {
			Stack     string           `json:"stack"`
			Resources []map[string]any `json:"resources"`
			Outputs   map[string]any   `json:"outputs"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
		assert.Equal(t, "dev", doc.Stack)
		assert.NotEmpty(t, doc.Resources)
		for _, k := range []string{"urn", "type", "name", "parent", "provider", "dependencies", "protect", "inputs"} {
			assert.Contains(t, doc.Resources[0], k)
		}
		assert.Contains(t, doc.Outputs, "vpcId")
	})
	t.Run("tree", func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.Equal(t, 0, cli.Main([]string{"-dir", dir, "-stack", "dev"}, &out, &errOut), errOut.String())
		assert.Contains(t, out.String(), "dataplatform:network:Vpc  network")
		assert.Contains(t, out.String(), "aws:ec2/vpc:Vpc  network-vpc  cidrBlock=10.10.0.0/16")
	})
	t.Run("diff", func(t *testing.T) {
		var old, errOut bytes.Buffer
		require.Equal(t, 0, cli.Main([]string{"-dir", dir, "-stack", "dev", "-json"}, &old, &errOut))
		oldPath := filepath.Join(dir, "old.json")
		require.NoError(t, os.WriteFile(oldPath, old.Bytes(), 0o600))
		var out bytes.Buffer
		require.Equal(t, 0, cli.Main([]string{"-dir", dir, "-stack", "dev", "-diff", oldPath}, &out, &errOut))
		assert.Contains(t, out.String(), "0 to add, 0 to remove, 0 to change")
	})
	t.Run("bad config", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := cli.Main([]string{"-dir", dir, "-stack", "bad", "-json"}, &out, &errOut)
		assert.Equal(t, 1, code)
		assert.Empty(t, out.String(), "no plan is printed for bad config")
		assert.Contains(t, errOut.String(), "dataplatform:network.natStrategy")
		assert.Contains(t, errOut.String(), `"Double"`)
	})
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}
