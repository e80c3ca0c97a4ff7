package stackconfig

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Namespace is the config namespace of this project's keys ("dataplatform:network").
const Namespace = "dataplatform"

// Stack is the whole, typed configuration of one stack.
type Stack struct {
	// Project and Stack are the Pulumi project and stack names.
	Project, Stack string
	// Region is the AWS region (config key aws:region). Required.
	Region string
	// Name prefixes the platform's named resources and is the EKS cluster's
	// name (config key dataplatform:name). Default "dataplatform-<stack>".
	Name string
	// Tags are put on every taggable AWS resource, after the platform's own
	// (Project, Environment, ManagedBy) (config key dataplatform:tags).
	Tags map[string]string
	// Network is the config section dataplatform:network.
	Network Network
	// Cluster is the config section dataplatform:cluster.
	Cluster Cluster
	// Karpenter is the config section dataplatform:karpenter.
	Karpenter Karpenter
	// Database is the config section dataplatform:database (each app's PostgreSQL).
	Database Database
	// Storage is the config section dataplatform:storage (every bucket).
	Storage Storage
	// Secrets is the config section dataplatform:secrets.
	Secrets Secrets
	// Apps is the config section dataplatform:apps.
	Apps AppsConfig
	// Policy is the config section dataplatform:policy: the guardrail rules
	// this stack waives, each with its reason.
	Policy Policy
	// Observability is the config section dataplatform:observability.
	Observability Observability
	// Images is the config section dataplatform:images.
	Images Images
	// SSO is the config section dataplatform:sso.
	SSO SSO
	// CI is the config section dataplatform:ci.
	CI CI
}

// Policy is the config section dataplatform:policy.
type Policy struct {
	// Waivers turn rules of package policy off for this stack; the policy
	// report prints each with its reason.
	Waivers []Waiver `json:"waivers,omitempty"`
	// ExternalAccounts are AWS accounts other than the deploying one that
	// ARNs in the config may name on purpose (a secret shared from a
	// security account, say), each with its reason. An ARN naming any other
	// account is refused. Default none.
	ExternalAccounts []ExternalAccount `json:"externalAccounts,omitempty"`
}

// ExternalAccount is an AWS account the config may name in ARNs.
type ExternalAccount struct {
	// Account is the 12-digit account ID.
	Account string `json:"account"`
	// Reason says why the platform uses something of that account.
	Reason string `json:"reason"`
}

// Waiver names a rule (such as "RDS-005") and why it does not apply here.
type Waiver struct {
	// Rule is the rule's ID, such as "RDS-005" (go run ./cmd/plan -policy lists them).
	Rule string `json:"rule"`
	// Reason says why the rule does not apply to this stack; the report prints it.
	Reason string `json:"reason"`
}

// AppsConfig is the config section dataplatform:apps: the secret syncer,
// the load balancer controller and ingress, Airbyte and Airflow.
type AppsConfig struct {
	// SecretSync is the External Secrets Operator.
	SecretSync SecretSync `json:"secretSync"`
	// Ingress is the AWS Load Balancer Controller and the apps' load balancer.
	Ingress Ingress `json:"ingress"`
	// Airbyte is the Airbyte release.
	Airbyte Airbyte `json:"airbyte"`
	// Airflow is the Airflow release.
	Airflow Airflow `json:"airflow"`
}

// Sections lists the structured config keys under the dataplatform namespace.
var Sections = []string{"name", "tags", "network", "cluster", "karpenter", "database", "storage", "secrets", "apps", "policy", "observability", "images", "sso", "ci"}

var (
	ruleID    = regexp.MustCompile(`^([A-Z]+-\d{3}|k8s/[a-z0-9-]+)$`)
	accountID = regexp.MustCompile(`^\d{12}$`)
)

// namePattern is what every physical name built from the platform's name
// accepts: RDS identifiers and snapshots refuse two hyphens in a row or a
// trailing one, and the longest derived name (the node group's prefix
// aside) fits its limit with 32 characters.
var namePattern = regexp.MustCompile(`^[a-z](?:-?[a-z0-9])+$`)

// Getter returns the raw value of a config key ("aws:region",
// "dataplatform:network"), or "" when it is not set.
type Getter func(key string) string

// Parse reads a stack's config through get, applies defaults and validates
// it, returning one error that lists every problem. It is pure: it calls no
// cloud API and registers nothing, so no input can half-create a stack.
func Parse(project, stack string, get Getter) (*Stack, error) {
	cfg := &Stack{Project: project, Stack: stack}
	var p validate.Problems
	cfg.Region = get("aws:region")
	if cfg.Region == "" {
		p.Addf("aws:region", "required: the AWS region to deploy to, such as \"us-east-1\" (pulumi config set aws:region us-east-1)")
	}
	cfg.Name = get(Namespace + ":name")
	if raw := get(Namespace + ":tags"); raw != "" {
		decodeSection(Namespace+":tags", raw, &cfg.Tags, &p)
	}
	for _, s := range []struct {
		key string
		out any
	}{
		{"network", &cfg.Network}, {"cluster", &cfg.Cluster}, {"karpenter", &cfg.Karpenter},
		{"database", &cfg.Database}, {"storage", &cfg.Storage}, {"secrets", &cfg.Secrets}, {"apps", &cfg.Apps},
		{"policy", &cfg.Policy}, {"observability", &cfg.Observability}, {"images", &cfg.Images}, {"sso", &cfg.SSO}, {"ci", &cfg.CI},
	} {
		if raw := get(Namespace + ":" + s.key); raw != "" {
			decodeSection(Namespace+":"+s.key, raw, s.out, &p)
		}
	}
	cfg.withDefaults()
	cfg.validate(&p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// withDefaults gives every unset value its default, in one place.
func (c *Stack) withDefaults() {
	if c.Name == "" {
		c.Name = c.Project + "-" + c.Stack
	}
	c.Network = c.Network.WithDefaults()
	c.Cluster = c.Cluster.WithDefaults()
	c.Karpenter = c.Karpenter.WithDefaults()
	c.Database = c.Database.WithDefaults()
	c.Storage = c.Storage.WithDefaults()
	c.Secrets = c.Secrets.WithDefaults()
	c.Observability = c.Observability.WithDefaults()
	c.Images = c.Images.WithDefaults()
	c.Apps.SecretSync = c.Apps.SecretSync.WithDefaults()
	c.Apps.Ingress = c.Apps.Ingress.WithDefaults()
	if c.Apps.Ingress.Group == "" {
		c.Apps.Ingress.Group = c.Name
	}
	c.Apps.Airbyte = c.Apps.Airbyte.WithDefaults()
	c.Apps.Airflow = c.Apps.Airflow.WithDefaults()
	c.SSO = c.SSO.WithDefaults(c.Name)
	c.CI = c.CI.WithDefaults(c.Stack)
}

// validate records every problem of a defaulted Config.
func (c *Stack) validate(p *validate.Problems) {
	if !namePattern.MatchString(c.Name) || len(c.Name) > 32 {
		p.Addf(Namespace+":name", "want 2 to 32 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, got %q", c.Name)
	}
	keys := make([]string, 0, len(c.Tags))
	for k := range c.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			p.Addf(Namespace+":tags."+k, "the aws: prefix is reserved by AWS; choose another key")
		case len(k) > 128:
			p.Addf(Namespace+":tags."+k, "want a key of at most 128 characters, got %d", len(k))
		case len(c.Tags[k]) > 256:
			p.Addf(Namespace+":tags."+k, "want a value of at most 256 characters, got %d", len(c.Tags[k]))
		}
	}
	p.Merge(Namespace+":network", c.Network.Validate())
	p.Merge(Namespace+":cluster", c.Cluster.Validate())
	p.Merge(Namespace+":karpenter", c.Karpenter.Validate())
	p.Merge(Namespace+":database", c.Database.Validate())
	p.Merge(Namespace+":storage", c.Storage.Validate())
	p.Merge(Namespace+":secrets", c.Secrets.Validate())
	p.Merge(Namespace+":observability", c.Observability.Validate())
	p.Merge(Namespace+":images", c.Images.Validate())
	p.Merge(Namespace+":sso", c.SSO.Validate())
	p.Merge(Namespace+":ci", c.CI.Validate())
	if c.SSO.Enabled && c.Apps.Ingress.CertificateARN == "" {
		p.Addf(Namespace+":sso.enabled", "true, but the apps are served over plain HTTP: Cognito redirects only to https callback URLs and the load balancer authenticates only on an HTTPS listener; set dataplatform:apps.ingress.certificateArn (an ACM certificate for the apps' hosts), or leave SSO off")
	}
	// The platform's Kubernetes objects are created in the same `pulumi up`
	// as the cluster: the deployer must reach the API server.
	if !c.Cluster.Endpoint.PublicAccess && !c.Cluster.Endpoint.DeployerInVpc {
		p.Addf(Namespace+":cluster.endpoint", "the API endpoint would be private, but `pulumi up` creates Kubernetes objects in the same run and must reach it: set publicAccess with the deployer's egress blocks in publicAccessCidrs (everyone else stays out), or deployerInVpc when the deploy runs inside the VPC")
	}
	if c.Cluster.Endpoint.DeployerInVpc && c.Network.Existing == nil {
		p.Addf(Namespace+":cluster.endpoint.deployerInVpc", "true, but this stack creates its VPC, which does not exist when the first deploy starts: use publicAccessCidrs for the deployer, or network.existing")
	}
	if e := c.Network.Existing; e != nil && len(e.IngressSubnetIDs) == 0 && c.Apps.Ingress.Scheme == "internal" {
		p.Addf(Namespace+":network.existing.ingressSubnetIds", "required with internal load balancers (apps.ingress.scheme %q): the apps' NetworkPolicies admit the load balancers by their subnets' blocks, and in the private subnets that would admit every pod to the apps' web ports; give two or more subnets (a /27 each is enough) tagged kubernetes.io/role/internal-elb=1 that hold no nodes", c.Apps.Ingress.Scheme)
	}
	if c.Apps.Airflow.DagsOnEFS && c.Cluster.Addons.EfsCsiDriver == "" {
		p.Addf(Namespace+":cluster.addons.efsCsiDriver", "required when apps.airflow.dagsOnEfs is true: the EFS CSI driver add-on version")
	}
	p.Merge(Namespace+":apps.secretSync", c.Apps.SecretSync.Validate())
	p.Merge(Namespace+":apps.ingress", c.Apps.Ingress.Validate())
	p.Merge(Namespace+":apps.airbyte", c.Apps.Airbyte.Validate())
	p.Merge(Namespace+":apps.airflow", c.Apps.Airflow.Validate())
	seen := map[string]bool{}
	for i, w := range c.Policy.Waivers {
		f := fmt.Sprintf("%s:policy.waivers[%d]", Namespace, i)
		if !ruleID.MatchString(w.Rule) {
			p.Addf(f+".rule", "want a rule ID such as \"RDS-005\" or \"k8s/waits\", got %q", w.Rule)
		}
		if len(strings.TrimSpace(w.Reason)) < 10 {
			p.Addf(f+".reason", "want the reason the rule does not apply here (at least 10 characters), got %q", w.Reason)
		}
		if seen[w.Rule] {
			p.Addf(f+".rule", "rule %q is waived twice", w.Rule)
		}
		seen[w.Rule] = true
	}
	accounts := map[string]bool{}
	for i, a := range c.Policy.ExternalAccounts {
		f := fmt.Sprintf("%s:policy.externalAccounts[%d]", Namespace, i)
		if !accountID.MatchString(a.Account) {
			p.Addf(f+".account", "want a 12-digit AWS account ID, got %q", a.Account)
		}
		if len(strings.TrimSpace(a.Reason)) < 10 {
			p.Addf(f+".reason", "want why the platform uses this account (at least 10 characters), got %q", a.Reason)
		}
		if accounts[a.Account] {
			p.Addf(f+".account", "account %q is listed twice", a.Account)
		}
		accounts[a.Account] = true
	}
	pools := map[string]bool{}
	var names []string
	for _, np := range c.Karpenter.NodePools {
		pools[np.Name] = true
		names = append(names, fmt.Sprintf("%q", np.Name))
	}
	for field, pool := range map[string]string{"apps.airbyte.jobNodePool": c.Apps.Airbyte.JobNodePool, "apps.airflow.taskNodePool": c.Apps.Airflow.TaskNodePool} {
		if pool != "" && !pools[pool] {
			p.Addf(Namespace+":"+field, "no Karpenter node pool %q; want one of %s", pool, strings.Join(names, ", "))
		}
	}
	if arch, pool := c.Apps.Airbyte.ConnectorArchitecture, c.Apps.Airbyte.JobNodePool; arch != "any" {
		for _, np := range c.Karpenter.NodePools {
			if pool != "" && np.Name == pool && !slices.Contains(np.Architectures, arch) {
				p.Addf(Namespace+":apps.airbyte.connectorArchitecture", "%q, but the jobs' node pool %q launches only %s nodes; add %s to %s:karpenter.nodePools[%s].architectures, or choose another pool",
					arch, pool, strings.Join(np.Architectures, " and "), arch, Namespace, np.Name)
			}
		}
	}
	if c.Apps.Airbyte.Namespace == c.Apps.Airflow.Namespace {
		p.Addf(Namespace+":apps.airflow.namespace", "%q is Airbyte's namespace too; each app needs its own", c.Apps.Airflow.Namespace)
	}
	// Karpenter's replicas refuse to share a node (hostname anti-affinity)
	// and stay off the nodes Karpenter launches: each needs a core node.
	if min := c.Cluster.CoreNodeGroup.MinSize; c.Karpenter.Replicas > min && min > 0 {
		p.Addf(Namespace+":karpenter.replicas", "%d replicas need %d core nodes (one each), but %s:cluster.coreNodeGroup.minSize is %d; raise minSize or lower replicas",
			c.Karpenter.Replicas, c.Karpenter.Replicas, Namespace, min)
	}
}

// BaseTags are the tags every taggable AWS resource gets.
func (c *Stack) BaseTags() map[string]string {
	t := map[string]string{
		"Project":     c.Project,
		"Environment": c.Stack,
		"ManagedBy":   "pulumi",
		"Platform":    c.Name,
	}
	for k, v := range c.Tags {
		t[k] = v
	}
	return t
}

// CheckKeys reports every key of the project's namespace that is not a
// known section (a misspelt "dataplatform:netwrok" would otherwise be
// ignored, and its defaults used instead).
func CheckKeys(keys []string) error {
	var p validate.Problems
	known := map[string]bool{}
	for _, s := range Sections {
		known[s] = true
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for _, k := range sorted {
		rest, ok := strings.CutPrefix(k, Namespace+":")
		if ok && !known[rest] {
			p.Addf(k, "unknown key; want one of %s", strings.Join(prefixed(Sections), ", "))
		}
	}
	return p.Err()
}

func prefixed(sections []string) []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = Namespace + ":" + s
	}
	return out
}
