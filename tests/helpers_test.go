// Package tests holds whole-program tests: they run the real program of both
// stacks in-process under mocks (the offline plan) and check the graph that
// `pulumi up` would create.
package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/internal/rdsca"
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

// projectCopy copies the project files a plan reads (Pulumi.yaml, the
// stack files and the vendored charts) into a new directory, for tests that
// change them.
func projectCopy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"} {
		copyFile(t, filepath.Join(projectDir, f), filepath.Join(dir, f))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, charts.Dir), 0o755))
	entries, err := os.ReadDir(filepath.Join(projectDir, charts.Dir))
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") || e.Name() == charts.SumsFile {
			copyFile(t, filepath.Join(projectDir, charts.Dir, e.Name()), filepath.Join(dir, charts.Dir, e.Name()))
		}
	}
	bundle := rdsca.DefaultFile("us-east-1")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(bundle)), 0o755))
	copyFile(t, filepath.Join(projectDir, bundle), filepath.Join(dir, bundle))
	return dir
}

// bumpChart vendors a stand-in for chart version to in dir: the archive of
// version from with its Chart.yaml saying to, listed in SHA256SUMS, as
// scripts/vendor-chart.sh would leave it.
func bumpChart(t testing.TB, dir, chart, from, to string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, charts.Path("", chart, from)))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(src))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		if h.Name == chart+"/Chart.yaml" {
			body = []byte(strings.Replace(string(body), "version: "+from, "version: "+to, 1))
			h.Size = int64(len(body))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err = tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	file := filepath.Join(dir, charts.Path("", chart, to))
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	sum := sha256.Sum256(buf.Bytes())
	f, err := os.OpenFile(filepath.Join(dir, charts.Dir, charts.SumsFile), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "%x  %s\n", sum, filepath.Base(file))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
