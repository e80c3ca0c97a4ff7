// Package charts locates the Helm chart archives the platform installs.
//
// Every release installs a packaged chart from this folder, not from a chart
// repository: the offline plan renders the same bytes that `pulumi up`
// installs, a chart bump is a reviewed change of a file, and no deploy
// depends on a repository being reachable. SHA256SUMS lists each archive's
// checksum, SOURCE.md where it came from; scripts/vendor-chart.sh adds a
// version.
//
// Chart paths are relative to the Pulumi project's directory, which is the
// working directory of both the program and the Kubernetes provider during
// `pulumi up`, so they are the same on every machine.
package charts

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir is the folder, relative to the Pulumi project, that holds the archives.
const Dir = "charts"

// SumsFile is the checksum list in Dir, in `sha256sum` format.
const SumsFile = "SHA256SUMS"

// The charts the platform installs, by chart name.
const (
	Airbyte                   = "airbyte"
	Airflow                   = "airflow"
	ExternalSecrets           = "external-secrets"
	AWSLoadBalancerController = "aws-load-balancer-controller"
	Karpenter                 = "karpenter"
	KarpenterCRD              = "karpenter-crd"
)

// Path is where the archive of chart at version is, under dir (Dir when
// empty): "./charts/airbyte-2.2.0.tgz". A release's chart input is this
// path, relative to the project directory where `pulumi up` runs. A
// relative path starts with "./": the Kubernetes provider takes a chart
// name without it for a repository chart when the file is missing, and
// reports a download failure instead of the missing file.
func Path(dir, chart, version string) string {
	if dir == "" {
		dir = Dir
	}
	p := filepath.ToSlash(filepath.Join(dir, chart+"-"+version+".tgz"))
	if !filepath.IsAbs(p) && !strings.HasPrefix(p, "../") {
		p = "./" + p
	}
	return p
}

// Read returns the archive at path (relative to base, unless absolute), after checking it
// against the SHA256SUMS file beside it.
func Read(base, path string) ([]byte, error) {
	full := filepath.FromSlash(path)
	if !filepath.IsAbs(full) {
		full = filepath.Join(base, full)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("chart archive %s is not vendored (%v): add it with scripts/vendor-chart.sh", path, err)
	}
	sums, err := ReadSums(filepath.Dir(full))
	if err != nil {
		return nil, err
	}
	want, ok := sums[filepath.Base(full)]
	if !ok {
		return nil, fmt.Errorf("chart archive %s is not listed in %s", path, filepath.Join(filepath.Dir(path), SumsFile))
	}
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != want {
		return nil, fmt.Errorf("chart archive %s has SHA-256 %x, but %s lists %s", path, got, SumsFile, want)
	}
	return data, nil
}

// ReadSums reads the SHA256SUMS file of dir: archive file name to checksum.
func ReadSums(dir string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(dir, SumsFile))
	if err != nil {
		return nil, fmt.Errorf("chart checksums: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 {
			out[strings.TrimPrefix(fields[1], "*")] = fields[0]
		}
	}
	return out, sc.Err()
}
