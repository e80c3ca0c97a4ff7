package plan

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/verify"
)

// IDs of the checks over the objects the plan puts in the cluster.
const (
	RuleServiceAccount = "k8s/service-account"
	RuleIRSA           = "k8s/irsa"
	RuleCRD            = "k8s/crd"
	RuleWebhookOrder   = "k8s/webhook-order"
	RuleAddress        = "k8s/address"
)

// RoleARNAnnotation is the service account annotation IRSA reads.
const RoleARNAnnotation = "eks.amazonaws.com/role-arn"

// objectCheck is one check over the cluster's objects.
type objectCheck struct {
	id, description string
	run             func(c *clusterView) []mocks.Violation
	// source is what the check follows: the API, the chart or the app.
	source string
}

// objectGuardrail is an objectCheck that is a guardrail, with its severity.
type objectGuardrail struct {
	objectCheck
	severity verify.Severity
}

// RuleRender is the refusal of a Helm release whose chart does not render
// with its values (Helm's engine, as the Kubernetes provider runs it).
const RuleRender = "helm/render"

func init() {
	verify.Register(verify.Rule{ID: RuleRender, Kind: verify.Refusal, Front: "objects", Applies: ReleaseType + " chart, version, values",
		Description: "every release's vendored chart renders with its values", Source: "Helm's engine (helm.sh/helm/v3 action.Install), as pulumi-kubernetes' Release runs it"})
	for _, c := range objectChecks {
		verify.Register(verify.Rule{ID: c.id, Kind: verify.Refusal, Front: "objects", Applies: "Kubernetes objects", Description: c.description, Source: c.source})
	}
}

// ObjectChecks describes the checks over rendered and created objects, in
// the order they run.
func ObjectChecks() []struct{ ID, Description string } {
	var out []struct{ ID, Description string }
	for _, c := range objectChecks {
		out = append(out, struct{ ID, Description string }{c.id, c.description})
	}
	return out
}

// objectGuardrails are checks over the cluster's objects that are
// guardrails, not refusals: what they find would run, but weaker (a
// database client that does not verify the server) or slower (a wait no
// object needs). Package policy evaluates them, with severities and
// waivers, in `cmd/plan -policy` and the policy pack; plan.Run does not
// refuse them.
var objectGuardrails = []objectGuardrail{
	{objectCheck{RuleDatabaseTLS, "every client of the database (JDBC URLs, libpq, Temporal, PgBouncer) verifies the server's certificate and host name against a mounted bundle holding the region's RDS root CA", checkDatabaseTLS, "libpq sslmode=verify-full, pgjdbc sslmode, Temporal's TLS settings, PgBouncer server_tls_sslmode; RDS user guide, Using SSL/TLS"}, verify.High},
	{objectCheck{RuleWaits, "a release waits for another release, nodes or a synced Secret only when its objects need them", checkWaits, "pulumi-kubernetes' await logic: a dependency that is not needed only lengthens the deploy"}, verify.Low},
}

// ObjectGuardrail is a guardrail over the cluster's objects (see
// CheckObjectGuardrail): package policy makes a rule of each.
type ObjectGuardrail struct {
	// ID names it in reports and waivers (such as "k8s/db-tls").
	ID string
	// Description says what the objects must do; Source what it follows.
	Description, Source string
	// Severity ranks it.
	Severity verify.Severity
}

// ObjectGuardrails lists the guardrails over the cluster's objects.
func ObjectGuardrails() []ObjectGuardrail {
	var out []ObjectGuardrail
	for _, c := range objectGuardrails {
		out = append(out, ObjectGuardrail{ID: c.id, Description: c.description, Source: c.source, Severity: c.severity})
	}
	return out
}

// CheckObjectGuardrail runs the object guardrail id over the objects the
// plan puts in the cluster and returns what it finds; an unknown id finds
// nothing.
func (p *Plan) CheckObjectGuardrail(id string) []mocks.Violation {
	for _, chk := range objectGuardrails {
		if chk.id == id {
			return chk.run(p.clusterView())
		}
	}
	return nil
}

var objectChecks = []objectCheck{
	{RuleServiceAccount, "every pod's service account is created, by a chart or by the program", checkServiceAccounts, "Kubernetes: a pod whose service account does not exist is refused by the ServiceAccount admission plugin"},
	{RuleIRSA, "a service account annotated with an IAM role is trusted by that role, and every web-identity trust names an annotated service account", checkIRSA, "EKS user guide, IAM roles for service accounts: STS AssumeRoleWithWebIdentity checks the trust policy's sub and aud"},
	{RuleCRD, "custom resources validate against the CRDs the plan installs, and wait for the release that installs them", checkCustomResources, "Kubernetes API: custom resources are validated against their CRD's OpenAPI schema, and refused before the CRD exists"},
	{RuleWebhookOrder, "a release whose admission webhook fails closed is ready before anything it intercepts is created", checkWebhookOrder, "Kubernetes admission webhooks with failurePolicy Fail refuse every request they cannot reach"},
	{RuleAddress, "no environment variable points at localhost (unless a container of the pod listens there) or at a placeholder", checkAddresses, "the apps' own clients (Airbyte, Airflow): an address that resolves nowhere breaks the component"},
	{RuleScheduling, "the pods a release starts fit nodes of the plan, and the release waits for them", checkScheduling, "kube-scheduler's predicates (resources, node selectors, taints, affinity) and pulumi-kubernetes' await"},
	{RuleCleanup, "what objects make in AWS (load balancers, volumes) is removed before the controller that made it", checkCleanup, "AWS Load Balancer Controller and EBS CSI driver: what they made is deleted only while they run"},
	{RuleRotation, "long-running pods that read rotating credentials roll when they rotate", checkRotation, "the platform's password rotation (docs/upgrades.md): a pod reads its Secret only when it starts"},
	{RuleArchitecture, "every image is published for the CPU architecture of each node its pods may land on", checkArchitecture, "the images' registries: a manifest without the node's platform fails to pull (exec format error)"},
	{RuleNetworkPolicy, "the NetworkPolicies, evaluated by a real engine (cyclonus), allow every path the pods need (read from their environment, Secrets, mounted files, Ingresses, database clients and IAM roles) and nothing else into an isolated namespace, and the VPC CNI enforces them", checkNetworkPolicies, "Kubernetes NetworkPolicy semantics as cyclonus evaluates them; the VPC CNI's enforcement (enableNetworkPolicy)"},
	{RuleUserCodeSecrets, "no pod that runs user or connector code gets the metadata database's login, the fernet key, or the API or JWT secret", checkUserCodeSecrets, "Airflow 3 task execution (the Execution API needs no database login or keys); issue 23"},
	{RuleEnvUnique, "no container lists an environment variable twice (the later wins, and merge patches keyed by name break on it)", checkEnvUnique, "Kubernetes strategic merge patch keys env by name: duplicates break patches"},
	{RuleExpansion, "no container's command, arguments or environment values hold \"$$\", which the kubelet reduces to \"$\"", checkExpansion, "Kubernetes: $(VAR) expansion in command, args and env reduces $$ to $"},
	{RuleMasterSharedObjects, "no job that connects as an RDS master user runs REASSIGN OWNED, which would hand the instance's postgres and template1 databases to an app", checkMasterSharedObjects, "PostgreSQL REASSIGN OWNED, and RDS's postgres and template1 databases owned by the master user"},
	{RuleSignInClaims, "every user attribute an app's sign-in reads from the pool's tokens is one its app client may read (Cognito leaves the others out)", checkSignInClaims, "Cognito app clients' ReadAttributes: unreadable attributes are left out of ID tokens"},
	{RuleAirflowBehindTLS, "Airflow, signing users in behind a load balancer that terminates TLS, trusts its X-Forwarded headers for sign-in and keeps its session cookie to HTTPS", checkAirflowBehindTLS, "Airflow's FAB auth manager ([fab] enable_proxy_fix) and Flask's SESSION_COOKIE_SECURE"},
	{RuleHooks, "no pod of a release Helm waits for waits for one of its post-install hooks (Helm runs them only once the pods are ready), and a Job a release keeps is deleted when done", checkHooks, "Helm: post-install hooks run after --wait's readiness, which pulumi-kubernetes' Release applies"},
	{RuleDisruption, "every long-running app component has one PodDisruptionBudget matching its replicas, running user code carries karpenter.sh/do-not-disrupt, and nothing with a volume of its own may run on spot", checkDisruption, "Kubernetes eviction API and PodDisruptionBudgets; Karpenter's disruption controls"},
}

// clusterView is what the checks read: the objects and the AWS side.
type clusterView struct {
	p       *Plan
	objects []ClusterObject
	owners  map[string]Resource
	crds    map[string]*crdVersion
}

// CheckObjects runs every check over the objects the plan puts in the
// cluster (see ObjectChecks) and returns what fails. plan.Run runs it; tests
// run it again on a plan whose objects they broke.
func (p *Plan) CheckObjects() []mocks.Violation {
	c := p.clusterView()
	var out []mocks.Violation
	for _, chk := range objectChecks {
		out = append(out, chk.run(c)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].URN != out[j].URN {
			return out[i].URN < out[j].URN
		}
		return out[i].Input < out[j].Input
	})
	return out
}

// clusterView gathers what the checks read: the plan's objects, and their
// owners by URN.
func (p *Plan) clusterView() *clusterView {
	c := &clusterView{p: p, objects: p.ClusterObjects(), owners: map[string]Resource{}}
	for _, r := range p.Resources {
		c.owners[r.URN] = r
	}
	return c
}

// violation reports a problem with object o, charged to its owner.
func (c *clusterView) violation(o ClusterObject, rule, format string, args ...any) mocks.Violation {
	r := c.owners[o.Owner]
	what := o.Key()
	if o.Derived {
		what = "pods of " + o.From
	}
	return mocks.Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: what, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// waitsFor reports whether the resource owner waits for release.
func (c *clusterView) waitsFor(owner, release string) bool {
	return owner == release || c.p.Closure(owner)[release]
}

// namespaces returns the labels of every namespace the plan knows: those it
// creates (with Kubernetes' kubernetes.io/metadata.name label) and the
// built-in ones.
func (c *clusterView) namespaces() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		out[ns] = map[string]string{}
	}
	for _, o := range c.objects {
		if o.Kind == "Namespace" {
			out[o.Name] = o.Labels()
		}
	}
	for ns, labels := range out {
		labels["kubernetes.io/metadata.name"] = ns
	}
	return out
}

// serviceAccounts returns every service account the plan creates, by
// "namespace/name", with the annotation of its IAM role.
func (c *clusterView) serviceAccounts() map[string]ClusterObject {
	out := map[string]ClusterObject{}
	for _, o := range c.objects {
		if o.Kind == "ServiceAccount" {
			out[o.Namespace+"/"+o.Name] = o
		}
	}
	return out
}

func checkServiceAccounts(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	sas := c.serviceAccounts()
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		sa, _ := spec["serviceAccountName"].(string)
		if sa == "" {
			sa, _ = spec["serviceAccount"].(string)
		}
		if sa == "" || sa == "default" {
			continue // every namespace has a default service account
		}
		if _, ok := sas[o.Namespace+"/"+sa]; !ok {
			out = append(out, c.violation(o, RuleServiceAccount, "run as service account %s/%s, which neither a chart nor the program creates: the pods would not start", o.Namespace, sa))
		}
		for _, e := range c.env(o) {
			up := strings.ToUpper(e.name)
			if (strings.Contains(up, "SERVICEACCOUNT") || strings.Contains(up, "SERVICE_ACCOUNT")) && !strings.Contains(e.value, "/") && e.value != "" {
				if _, ok := sas[o.Namespace+"/"+e.value]; !ok && e.value != "default" {
					out = append(out, c.violation(o, RuleServiceAccount, "%s names service account %s/%s for the pods it launches, which neither a chart nor the program creates", e.name, o.Namespace, e.value))
				}
			}
		}
	}
	return out
}

// trust is one web-identity trust of a role: the service accounts its sub
// condition admits.
type trust struct {
	role      Resource
	arn       string
	issuer    string
	subs      []string
	federated []string
}

// roleTrusts returns the web-identity trusts of every IAM role, by ARN.
func (c *clusterView) roleTrusts() map[string]trust {
	out := map[string]trust{}
	for _, r := range c.p.records {
		if r.Type != "aws:iam/role:Role" {
			continue
		}
		arn := ""
		if v, ok := r.Outputs["arn"]; ok && v.IsString() {
			arn = v.StringValue()
		}
		res, _ := c.p.ByURN(r.URN)
		doc, _ := res.Inputs["assumeRolePolicy"].(map[string]any)
		t := trust{role: res, arn: arn}
		for _, st := range listOf(doc["Statement"]) {
			fed := Strings(At(st, "Principal", "Federated"))
			if len(fed) == 0 || strings.HasSuffix(fed[0], ":oidc-provider/token.actions.githubusercontent.com") {
				continue // not a cluster's service accounts: CI's (stacks.GitHubPreviewTrust)
			}
			t.federated = append(t.federated, fed...)
			cond, _ := st["Condition"].(map[string]any)
			for _, op := range []string{"StringEquals", "StringLike"} {
				m, _ := cond[op].(map[string]any)
				for k, v := range m {
					if strings.HasSuffix(k, ":sub") {
						t.issuer = strings.TrimSuffix(k, ":sub")
						t.subs = append(t.subs, Strings(v)...)
					}
				}
			}
		}
		if len(t.subs) > 0 {
			out[arn] = t
		}
	}
	return out
}

func listOf(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case map[string]any:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// subMatches reports whether an IAM sub pattern (StringLike allows * and ?)
// admits sub.
func subMatches(pattern, sub string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, sub)
	return ok
}

func checkIRSA(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	trusts := c.roleTrusts()
	sas := c.serviceAccounts()
	annotated := map[string]bool{}
	// An EKS add-on creates its own service account and annotates it with
	// the role the add-on names.
	for _, r := range c.p.Resources {
		if r.Type == "aws:eks/addon:Addon" {
			if t, ok := trusts[StringAt(r.Inputs, "serviceAccountRoleArn")]; ok {
				for _, s := range t.subs {
					annotated[t.arn+" "+s] = true
				}
			}
		}
	}
	keys := make([]string, 0, len(sas))
	for k := range sas {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sa := sas[k]
		arn := sa.Annotations()[RoleARNAnnotation]
		if arn == "" {
			continue
		}
		sub := "system:serviceaccount:" + sa.Namespace + ":" + sa.Name
		annotated[arn+" "+sub] = true
		t, ok := trusts[arn]
		if !ok {
			out = append(out, c.violation(sa, RuleIRSA, "is annotated with role %s, which the plan creates no web-identity trust for: its pods get no AWS credentials", arn))
			continue
		}
		match := false
		for _, s := range t.subs {
			match = match || subMatches(s, sub)
		}
		if !match {
			out = append(out, c.violation(sa, RuleIRSA, "is annotated with role %s, whose trust admits %v, not %s: AssumeRoleWithWebIdentity would be denied", arn, t.subs, sub))
		}
	}
	providers := map[string]string{} // OIDC provider ARN -> issuer (without https://)
	for _, r := range c.p.records {
		if r.Type == "aws:iam/openIdConnectProvider:OpenIdConnectProvider" {
			providers[r.Outputs["arn"].StringValue()] = strings.TrimPrefix(r.Outputs["url"].StringValue(), "https://")
		}
	}
	arns := make([]string, 0, len(trusts))
	for a := range trusts {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		t := trusts[arn]
		for _, f := range t.federated {
			if issuer, ok := providers[f]; len(providers) > 0 && (!ok || issuer != t.issuer) {
				out = append(out, mocks.Violation{URN: t.role.URN, Type: t.role.Type, Name: t.role.Name, Input: "assumeRolePolicy", Rule: RuleIRSA,
					Message: fmt.Sprintf("trusts the web identities of %s with conditions on %s, which is not the OIDC provider of the plan's cluster", f, t.issuer)})
			}
		}
		for _, s := range t.subs {
			if strings.ContainsAny(s, "*?") {
				out = append(out, mocks.Violation{URN: t.role.URN, Type: t.role.Type, Name: t.role.Name, Input: "assumeRolePolicy", Rule: RuleIRSA,
					Message: fmt.Sprintf("trusts the pattern %q: trust exactly the service accounts that use the role", s)})
				continue
			}
			if !annotated[arn+" "+s] {
				out = append(out, mocks.Violation{URN: t.role.URN, Type: t.role.Type, Name: t.role.Name, Input: "assumeRolePolicy", Rule: RuleIRSA,
					Message: fmt.Sprintf("trusts %s, but no service account of the plan by that name is annotated with this role: a trust nothing uses", s)})
			}
		}
	}
	return out
}

// envVar is a resolved environment variable of a pod.
type envVar struct{ container, name, value string }

// env resolves the environment of every container of pod o: plain values,
// keys of ConfigMaps (valueFrom and envFrom) that the plan creates.
func (c *clusterView) env(o ClusterObject) []envVar {
	spec, _ := PodSpec(o.Body, "Pod")
	configMaps := map[string]map[string]any{}
	for _, x := range c.objects {
		if x.Kind == "ConfigMap" && x.Namespace == o.Namespace {
			data, _ := x.Body["data"].(map[string]any)
			configMaps[x.Name] = data
		}
	}
	var out []envVar
	for _, list := range []string{"initContainers", "containers"} {
		for _, ctr := range listOf(spec[list]) {
			name, _ := ctr["name"].(string)
			for _, from := range listOf(ctr["envFrom"]) {
				if cm := StringAt(from, "configMapRef", "name"); cm != "" {
					keys := make([]string, 0, len(configMaps[cm]))
					for k := range configMaps[cm] {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						s, _ := configMaps[cm][k].(string)
						out = append(out, envVar{name, StringAt(from, "prefix") + k, s})
					}
				}
			}
			for _, e := range listOf(ctr["env"]) {
				n, _ := e["name"].(string)
				if v, ok := e["value"].(string); ok {
					out = append(out, envVar{name, n, v})
					continue
				}
				if cm := StringAt(e, "valueFrom", "configMapKeyRef", "name"); cm != "" {
					s, _ := configMaps[cm][StringAt(e, "valueFrom", "configMapKeyRef", "key")].(string)
					out = append(out, envVar{name, n, s})
				}
			}
		}
	}
	return out
}

// ports returns the container ports a pod listens on.
func ports(spec map[string]any) map[int]bool {
	out := map[int]bool{}
	for _, list := range []string{"initContainers", "containers"} {
		for _, ctr := range listOf(spec[list]) {
			for _, p := range listOf(ctr["ports"]) {
				if n, ok := p["containerPort"].(float64); ok {
					out[int(n)] = true
				}
			}
		}
	}
	return out
}

// placeholders are values charts ship as defaults that no deploy can use.
// (Hosts of the stack's own config are checked against the AWS account by
// the program itself; see stacks.)
var placeholders = regexp.MustCompile(`(?i)\bchange[_-]?me\b|\breplace[_-]?me\b|<[a-z _-]+>|\bTODO\b|\bxxx+\b|your[_-]?domain|my[_-]?domain\.|\bmy-?company\b`)

// localhostValue returns the port a value points at on the pod itself, and
// whether it points there at all.
func localhostValue(v string) (port int, isLocal bool) {
	host, p := "", ""
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host, p = u.Hostname(), u.Port()
		if p == "" {
			p = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
	} else if h, pp, err := net.SplitHostPort(v); err == nil {
		host, p = h, pp
	} else {
		host = v
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		n, _ := strconv.Atoi(p)
		return n, true
	}
	return 0, false
}

func checkAddresses(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		listening := ports(spec)
		for _, e := range c.env(o) {
			if port, local := localhostValue(e.value); local && !listening[port] {
				out = append(out, c.violation(o, RuleAddress, "container %s: %s=%q points at the pod itself, where nothing listens on that port: a real address is needed", e.container, e.name, e.value))
				continue
			}
			if placeholders.MatchString(e.value) {
				out = append(out, c.violation(o, RuleAddress, "container %s: %s=%q is a placeholder, not a real value", e.container, e.name, e.value))
			}
		}
	}
	return out
}

// jsonRoundTrip returns v as plain JSON values.
func jsonRoundTrip(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
