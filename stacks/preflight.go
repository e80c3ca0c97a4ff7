package stacks

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/internal/validate"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// Tool is a command-line tool `pulumi up` needs on the deploying machine.
type Tool struct {
	// Name is the command, such as "kubectl".
	Name string
	// Min is the oldest version that works, such as "1.24.0".
	Min string
	// Why says what needs it, and Install where to get it.
	Why, Install string
}

// Tools are the commands a deploy needs besides the Pulumi CLI and Go:
// pulumi-eks v2 checks both at every preview and up (its dependencies.js),
// and every Kubernetes call authenticates through `aws eks get-token`.
var Tools = []Tool{
	{Name: "aws", Min: "2.7.0", Why: "pulumi-eks checks it at every preview and up, and the Kubernetes provider runs `aws eks get-token` to authenticate",
		Install: "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"},
	{Name: "kubectl", Min: "1.24.0", Why: "pulumi-eks checks it at every preview and up",
		Install: "https://kubernetes.io/docs/tasks/tools/#kubectl"},
}

// ToolFinder reports the version of an installed tool.
type ToolFinder interface {
	// Version returns the tool's version ("2.17.3"), or an error when it is
	// not installed or does not answer.
	Version(tool string) (string, error)
}

// Machine finds tools on this machine's PATH.
type Machine struct{}

var (
	awsVersion     = regexp.MustCompile(`aws-cli/(\d+\.\d+\.\d+)`)
	kubectlVersion = regexp.MustCompile(`"gitVersion":\s*"v(\d+\.\d+\.\d+)`)
)

// Version runs the tool's version command.
func (Machine) Version(tool string) (string, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return "", fmt.Errorf("not found on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []byte
	var err error
	re := awsVersion
	switch tool {
	case "kubectl":
		out, err = exec.CommandContext(ctx, "kubectl", "version", "--client=true", "--output=json").Output()
		re = kubectlVersion
	default:
		out, err = exec.CommandContext(ctx, tool, "--version").CombinedOutput()
	}
	if err != nil {
		return "", fmt.Errorf("%s does not answer: %v", tool, err)
	}
	m := re.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("cannot read its version from %q", strings.TrimSpace(string(out)))
	}
	return string(m[1]), nil
}

// CheckTools reports every missing or too old tool at once.
func CheckTools(f ToolFinder) error {
	var p validate.Problems
	for _, t := range Tools {
		v, err := f.Version(t.Name)
		switch {
		case err != nil:
			p.Addf("tools."+t.Name, "%v: install %s %s or newer (%s); %s", err, t.Name, t.Min, t.Install, t.Why)
		case versionLess(v, t.Min):
			p.Addf("tools."+t.Name, "version %s is older than %s: upgrade it (%s); %s", v, t.Min, t.Install, t.Why)
		}
	}
	return p.Err()
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// ExampleAccount is the account the committed stack files are written for
// (the AWS documentation's example account, and the offline plan's). The
// placeholders in those files are accepted only there.
const ExampleAccount = "123456789012"

// Caller is who runs the deploy: aws:getCallerIdentity's answer.
type Caller struct {
	// Account is the account ID; ARN the caller's ARN (for a role, an STS
	// assumed-role ARN).
	Account, ARN string
}

// RoleName returns the IAM role behind an assumed-role session, or "".
func (c Caller) RoleName() string {
	parts := strings.Split(c.ARN, ":")
	if len(parts) < 6 {
		return ""
	}
	res := parts[5]
	if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		return role
	}
	if rest, ok := strings.CutPrefix(res, "role/"); ok {
		return rest[strings.LastIndex(rest, "/")+1:]
	}
	return ""
}

var (
	configARN    = regexp.MustCompile(`^arn:([^:]+):([^:]+):([^:]*):([^:]*):`)
	documentNets = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	exampleHost  = regexp.MustCompile(`(?i)(^|\.)example\.(com|net|org)$`)
)

// CheckAccount checks the config against the account the deploy runs in,
// before anything is created: every ARN the config names is in that account
// (or one of policy.externalAccounts), its partition and, for regional
// services, the stack's region; outside the example account, no placeholder
// of the committed stack files is left (example.com hosts and addresses,
// documentation CIDR blocks); and the deploy's role can reach Kubernetes.
//
// preview says the run is a `pulumi preview`: the preview role
// (PreviewRoleName, with dataplatform:ci.github) may run it, though it is
// no cluster admin; it may not run `pulumi up`.
func CheckAccount(cfg *Config, caller Caller, preview bool) error {
	var p validate.Problems
	external := map[string]bool{}
	for _, a := range cfg.Policy.ExternalAccounts {
		external[a.Account] = true
	}
	partition := "aws"
	if m := configARN.FindStringSubmatch(caller.ARN); m != nil {
		partition = m[1]
	}
	for _, f := range configARNs(cfg) {
		m := configARN.FindStringSubmatch(f.value)
		if m == nil {
			continue // spec checked the form
		}
		switch {
		case m[1] != partition:
			p.Addf(f.field, "%q is in partition %s, but the deploy runs in %s", f.value, m[1], partition)
		case m[3] != "" && m[3] != cfg.Region:
			p.Addf(f.field, "%q is in region %s, but the stack deploys to %s", f.value, m[3], cfg.Region)
		case m[4] != caller.Account && !external[m[4]]:
			p.Addf(f.field, "%q is in account %s, but the deploy runs in %s; use this account's, or list %s in %s:policy.externalAccounts with the reason",
				f.value, m[4], caller.Account, m[4], stackconfig.Namespace)
		}
	}
	if caller.Account != ExampleAccount {
		for _, f := range placeholders(cfg) {
			p.Addf(f.field, "%q is the committed example's value: set this stack's own (%s)", f.value, f.hint)
		}
	}
	isPreviewRole := cfg.CI.GitHub != nil && caller.RoleName() == PreviewRoleName(cfg)
	if isPreviewRole && !preview {
		p.Addf(stackconfig.Namespace+":ci.github", "the deploy runs as role %s, the read-only role of CI's previews: it may run `pulumi preview`, not `pulumi up`; deploy as one of %s:cluster.adminRoleArns", caller.RoleName(), stackconfig.Namespace)
	}
	if role := caller.RoleName(); role != "" && !cfg.Cluster.BootstrapCreatorAdmin && !isPreviewRole {
		found := false
		for _, arn := range cfg.Cluster.AdminRoleARNs {
			found = found || arn[strings.LastIndex(arn, "/")+1:] == role
		}
		if !found {
			p.Addf(stackconfig.Namespace+":cluster.adminRoleArns", "the deploy runs as role %s, which is not listed: it could create the cluster but not the Kubernetes objects of the same `pulumi up`; add arn:aws:iam::%s:role/%s", role, caller.Account, role)
		}
	}
	return p.Err()
}

// field is one config value with its key.
type field struct{ field, value, hint string }

// configARNs lists every ARN the config names.
func configARNs(cfg *Config) []field {
	ns := stackconfig.Namespace + ":"
	var out []field
	for i, a := range cfg.Cluster.AdminRoleARNs {
		out = append(out, field{fmt.Sprintf("%scluster.adminRoleArns[%d]", ns, i), a, ""})
	}
	if a := cfg.Apps.Ingress.CertificateARN; a != "" {
		out = append(out, field{ns + "apps.ingress.certificateArn", a, ""})
	}
	if a := cfg.Apps.Airflow.GitSync.CredentialsSecretARN; a != "" {
		out = append(out, field{ns + "apps.airflow.gitSync.credentialsSecretArn", a, ""})
	}
	if g := cfg.CI.GitHub; g != nil {
		out = append(out, field{ns + "ci.github.oidcProviderArn", g.OIDCProviderARN, ""})
	}
	return out
}

// placeholders lists the config values that only make sense in the example
// account: hosts and addresses under example.com, documentation CIDR blocks.
func placeholders(cfg *Config) []field {
	ns := stackconfig.Namespace + ":"
	var out []field
	hosts := []field{
		{ns + "apps.airbyte.host", cfg.Apps.Airbyte.Host, "the host users reach Airbyte at, in a zone you own"},
		{ns + "apps.airflow.host", cfg.Apps.Airflow.Host, "the host users reach Airflow at, in a zone you own"},
	}
	for _, h := range hosts {
		if exampleHost.MatchString(h.value) {
			out = append(out, h)
		}
	}
	for i, e := range cfg.Observability.AlarmEmails {
		if _, domain, ok := strings.Cut(e, "@"); ok && exampleHost.MatchString(domain) {
			out = append(out, field{fmt.Sprintf("%sobservability.alarmEmails[%d]", ns, i), e, "who receives the alarms"})
		}
	}
	if e := cfg.Apps.Airflow.Admin.Email; e != "" {
		if _, domain, ok := strings.Cut(e, "@"); ok && exampleHost.MatchString(domain) {
			out = append(out, field{ns + "apps.airflow.admin.email", e, "the first admin's address"})
		}
	}
	if g := cfg.CI.GitHub; g != nil && strings.HasPrefix(g.Repository, "example-org/") {
		out = append(out, field{ns + "ci.github.repository", g.Repository, "the repository whose pull requests are previewed"})
	}
	if r := cfg.Apps.Airflow.GitSync.Repo; strings.Contains(r, "/example-org/") {
		out = append(out, field{ns + "apps.airflow.gitSync.repo", r, "the repository of your DAGs"})
	}
	cidrs := map[string][]string{
		"cluster.endpoint.publicAccessCidrs": cfg.Cluster.Endpoint.PublicAccessCIDRs,
		"apps.ingress.inboundCidrs":          cfg.Apps.Ingress.InboundCIDRs,
	}
	for _, key := range []string{"cluster.endpoint.publicAccessCidrs", "apps.ingress.inboundCidrs"} {
		for i, c := range cidrs[key] {
			pr, err := netip.ParsePrefix(c)
			if err != nil {
				continue
			}
			for _, doc := range documentNets {
				if doc.Overlaps(pr) {
					out = append(out, field{fmt.Sprintf("%s%s[%d]", ns, key, i), c, "a documentation block (RFC 5737): list the real egress blocks"})
				}
			}
		}
	}
	return out
}
