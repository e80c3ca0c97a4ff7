package plan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleExpansion is the check that no container's command, arguments or
// environment values hold "$$": the kubelet expands $(VAR) references in
// them and reduces "$$" to "$" (Kubernetes API reference, Container
// command/args: "Double $$ are reduced to a single $, which allows for
// escaping the $(VAR_NAME) syntax"), so a script with a PostgreSQL
// dollar-quote ($$) or the shell's $$ would run changed. The test bed found
// it in the login job's script, which its pod runtime expands as the
// kubelet does.
const RuleExpansion = "k8s/expansion"

// RuleMasterSharedObjects is the check that no job connecting as an RDS
// master user runs REASSIGN OWNED: on RDS the master user owns the
// instance's postgres and template1 databases (RDS user guide,
// "Understanding PostgreSQL roles and permissions"), and REASSIGN OWNED
// also reassigns the shared objects a role owns, databases included
// (PostgreSQL, REASSIGN OWNED), so it would hand those, and on a shared
// instance other apps' databases, to the app. The test bed found it: on an
// RDS-shaped instance Airbyte's owner role came to own postgres and
// template1.
const RuleMasterSharedObjects = "k8s/db-shared-objects"

func checkExpansion(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for _, list := range []string{"initContainers", "containers"} {
			for _, ctr := range listOf(spec[list]) {
				name, _ := ctr["name"].(string)
				for _, field := range []string{"command", "args"} {
					for i, a := range Strings(ctr[field]) {
						if strings.Contains(a, "$$") {
							out = append(out, c.violation(o, RuleExpansion, "container %s: %s[%d] holds %q, which the kubelet reduces to \"$\" (write $$$$ for a literal $$, or avoid it)", name, field, i, excerpt(a, "$$")))
						}
					}
				}
				for _, e := range listOf(ctr["env"]) {
					if v, ok := e["value"].(string); ok && strings.Contains(v, "$$") {
						out = append(out, c.violation(o, RuleExpansion, "container %s: %s=%q holds \"$$\", which the kubelet reduces to \"$\"", name, e["name"], excerpt(v, "$$")))
					}
				}
			}
		}
	}
	return out
}

// RuleEnvUnique is the check that no container lists one environment
// variable twice. The API server accepts it (with a warning, "hides
// previous definition"), and the later entry wins in the container; but
// env is a list merged by name, so a strategic-merge patch (kubectl apply,
// an upgrade from a client-side-applied object) can fail on it, and a patch
// that removes one entry removes both: a security setting given twice, such
// as Temporal's host verification once was, would silently revert to the
// chart's.
const RuleEnvUnique = "k8s/env-unique"

func checkEnvUnique(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for _, list := range []string{"initContainers", "containers"} {
			for _, ctr := range listOf(spec[list]) {
				seen := map[string]int{}
				for i, e := range listOf(ctr["env"]) {
					n, _ := e["name"].(string)
					if first, ok := seen[n]; ok {
						out = append(out, c.violation(o, RuleEnvUnique, "container %s: env[%d] and env[%d] are both %s: the later wins, a strategic-merge patch keyed by name can fail on them, and removing one removes both; set it once (a chart value, or the project's patch of the chart)", ctr["name"], first, i, n))
						continue
					}
					seen[n] = i
				}
			}
		}
	}
	return out
}

// RuleUserCodeSecrets is the check that no pod running user or connector
// code (RunsUserCode: Airflow's task pods, Airbyte's job pods) gets the
// platform's own secrets: the metadata database's login, Airflow's fernet
// key, API secret key and JWT secret. Airflow 3 tasks reach the database
// only through the API server's Execution API, so the chart's pod template
// handing them all four let any DAG read, rewrite or decrypt every
// connection. The check knows these secrets by the variables the apps read
// them from (PlatformSecretEnv), and by the Secret keys those variables
// come from in any pod: a user-code pod may not name the one nor read the
// other, by env, envFrom or volume.
const RuleUserCodeSecrets = "k8s/user-code-secrets"

// PlatformSecretEnv are the variables through which the apps' own
// components read the platform's secrets.
var PlatformSecretEnv = []string{
	"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_CONN_AIRFLOW_DB", "AIRFLOW__CORE__FERNET_KEY",
	"AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__WEBSERVER__SECRET_KEY",
	"DATABASE_PASSWORD", "DATABASE_USER", "POSTGRES_PWD", "POSTGRES_USER", "AB_JWT_SIGNATURE_SECRET",
}

func checkUserCodeSecrets(c *clusterView) []mocks.Violation {
	secretEnv := map[string]bool{}
	for _, n := range PlatformSecretEnv {
		secretEnv[n] = true
	}
	// The Secret keys (namespace/name/key, and namespace/name) the apps'
	// components read those variables from.
	keys, secrets := map[string]string{}, map[string]string{}
	for _, o := range c.objects {
		if o.Kind != "Pod" || RunsUserCode(o) {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for _, ctr := range containersOf(spec) {
			for _, e := range listOf(ctr["env"]) {
				n, _ := e["name"].(string)
				if ref := StringAt(e, "valueFrom", "secretKeyRef", "name"); ref != "" && secretEnv[n] {
					key := o.Namespace + "/" + ref + "/" + StringAt(e, "valueFrom", "secretKeyRef", "key")
					if keys[key] == "" {
						keys[key] = n
					}
					if secrets[o.Namespace+"/"+ref] == "" {
						secrets[o.Namespace+"/"+ref] = n
					}
				}
			}
		}
	}
	var out []mocks.Violation
	for _, o := range c.objects {
		if !RunsUserCode(o) {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for _, ctr := range containersOf(spec) {
			for _, e := range listOf(ctr["env"]) {
				n, _ := e["name"].(string)
				ref := o.Namespace + "/" + StringAt(e, "valueFrom", "secretKeyRef", "name") + "/" + StringAt(e, "valueFrom", "secretKeyRef", "key")
				switch {
				case secretEnv[n]:
					out = append(out, c.violation(o, RuleUserCodeSecrets, "container %s runs user code and gets %s, a secret of the platform's own components: leave it out of this pod", ctr["name"], n))
				case keys[ref] != "":
					out = append(out, c.violation(o, RuleUserCodeSecrets, "container %s runs user code and reads %s (as %s), the key the platform's components read %s from", ctr["name"], strings.TrimPrefix(ref, o.Namespace+"/"), n, keys[ref]))
				}
			}
			for _, from := range listOf(ctr["envFrom"]) {
				if ref := StringAt(from, "secretRef", "name"); secrets[o.Namespace+"/"+ref] != "" {
					out = append(out, c.violation(o, RuleUserCodeSecrets, "container %s runs user code and loads Secret %s, which holds %s", ctr["name"], ref, secrets[o.Namespace+"/"+ref]))
				}
			}
		}
		for _, v := range listOf(spec["volumes"]) {
			if ref := StringAt(v, "secret", "secretName"); secrets[o.Namespace+"/"+ref] != "" {
				out = append(out, c.violation(o, RuleUserCodeSecrets, "volume %s of a pod that runs user code mounts Secret %s, which holds %s", v["name"], ref, secrets[o.Namespace+"/"+ref]))
			}
		}
	}
	return out
}

// containersOf returns a pod spec's init containers and containers.
func containersOf(spec map[string]any) []map[string]any {
	return append(listOf(spec["initContainers"]), listOf(spec["containers"])...)
}

func checkMasterSharedObjects(c *clusterView) []mocks.Violation {
	// Secrets synced from an RDS-managed master secret (rds!...), by
	// namespace/name.
	master := map[string]bool{}
	for _, x := range c.objects {
		if x.Kind != "ExternalSecret" {
			continue
		}
		for _, d := range listOf(At(x.Body, "spec", "data")) {
			if strings.Contains(StringAt(d, "remoteRef", "key"), ":secret:rds!") {
				target := StringAt(x.Body, "spec", "target", "name")
				if target == "" {
					target = x.Name
				}
				master[x.Namespace+"/"+target] = true
			}
		}
	}
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for _, ctr := range listOf(spec["containers"]) {
			asMaster := false
			for _, e := range listOf(ctr["env"]) {
				if e["name"] == "PGUSER" && master[o.Namespace+"/"+StringAt(e, "valueFrom", "secretKeyRef", "name")] {
					asMaster = true
				}
			}
			script := strings.ToUpper(strings.Join(append(Strings(ctr["command"]), Strings(ctr["args"])...), " "))
			if asMaster && strings.Contains(strings.Join(strings.Fields(script), " "), "REASSIGN OWNED") {
				out = append(out, c.violation(o, RuleMasterSharedObjects, "container %s connects as the RDS master user and runs REASSIGN OWNED, which also reassigns the databases the master user owns (on RDS: postgres and template1; on a shared instance, the other apps'): hand over the app's objects one by one", ctr["name"]))
			}
		}
	}
	return out
}

// excerpt returns the part of s around sub.
func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	from, to := max(0, i-20), min(len(s), i+len(sub)+20)
	return fmt.Sprintf("…%s…", s[from:to])
}

// RuleSignInClaims is the check that every user attribute an app's sign-in
// code reads from the user pool's tokens is one its app client may read.
// Cognito leaves out of a client's tokens every custom attribute its
// ReadAttributes do not list (UserPoolClientType ReadAttributes), and the
// app then sees a federated user in no group. It reads Airflow's rendered
// webserver_config.py: the client it names and the claims it reads.
const RuleSignInClaims = "k8s/sso-claims"

var (
	configClientID = regexp.MustCompile(`client_id="([^"]+)"`)
	configClaim    = regexp.MustCompile(`claims(?:\.get\(|\[)"([^"]+)"`)
)

// tokenClaims are claims Cognito puts in tokens that are not user
// attributes, so no ReadAttributes governs them.
var tokenClaims = map[string]bool{"sub": true, "cognito:groups": true, "cognito:username": true, "identities": true, "token_use": true}

// cognitoStandard are the attributes a client reads when its ReadAttributes
// are unset: the standard ones and the two *_verified flags.
var cognitoStandard = map[string]bool{"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true, "nickname": true, "phone_number": true,
	"phone_number_verified": true, "picture": true, "preferred_username": true, "profile": true, "updated_at": true, "website": true, "zoneinfo": true}

func checkSignInClaims(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "ConfigMap" {
			continue
		}
		text, _ := At(o.Body, "data", "webserver_config.py").(string)
		m := configClientID.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		var client *Resource
		for i, r := range c.p.Resources {
			if r.Type == "aws:cognito/userPoolClient:UserPoolClient" && r.ID == m[1] {
				client = &c.p.Resources[i]
			}
		}
		if client == nil {
			out = append(out, c.violation(o, RuleSignInClaims, "webserver_config.py signs in with client %s, which the plan does not create", m[1]))
			continue
		}
		readable := cognitoStandard
		if list, ok := client.Inputs["readAttributes"]; ok {
			readable = map[string]bool{}
			for _, a := range Strings(list) {
				readable[a] = true
			}
		}
		for _, claim := range configClaim.FindAllStringSubmatch(text, -1) {
			if !tokenClaims[claim[1]] && !readable[claim[1]] {
				out = append(out, c.violation(o, RuleSignInClaims, "webserver_config.py reads the claim %q, which app client %q may not read: Cognito leaves it out of its tokens (add it to the client's ReadAttributes)", claim[1], client.Name))
			}
		}
	}
	return out
}

// RuleAirflowBehindTLS is the check that Airflow, signing users in with
// OAuth behind a load balancer that terminates TLS, trusts the load
// balancer's X-Forwarded-* headers for its sign-in ([fab]
// enable_proxy_fix in airflow.cfg: FAB's werkzeug ProxyFix; otherwise the
// callback URL it sends the identity provider is http://, which Cognito,
// registering https callbacks only, refuses), and keeps its session cookie
// to HTTPS (SESSION_COOKIE_SECURE in webserver_config.py). The test bed
// found the first resting on the chart's default alone (the
// ENABLE_PROXY_FIX of webserver_config.py has no effect in Airflow 3), and
// the cookie sent without Secure.
const RuleAirflowBehindTLS = "k8s/airflow-behind-tls"

var iniKey = regexp.MustCompile(`(?m)^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$`)

// iniValue returns key of section in an airflow.cfg.
func iniValue(text, section, key string) string {
	in := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			in = t == "["+section+"]"
			continue
		}
		if m := iniKey.FindStringSubmatch(line); in && m != nil && m[1] == key {
			return m[2]
		}
	}
	return ""
}

func checkAirflowBehindTLS(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	https := map[string]bool{} // namespaces whose Ingress listens on HTTPS
	for _, o := range c.objects {
		if o.Kind == "Ingress" && strings.Contains(o.Annotations()["alb.ingress.kubernetes.io/listen-ports"], "HTTPS") {
			https[o.Namespace] = true
		}
	}
	for _, o := range c.objects {
		if o.Kind != "ConfigMap" || !https[o.Namespace] {
			continue
		}
		if web, _ := At(o.Body, "data", "webserver_config.py").(string); strings.Contains(web, "AUTH_OAUTH") {
			if !regexp.MustCompile(`(?m)^SESSION_COOKIE_SECURE\s*=\s*True`).MatchString(web) {
				out = append(out, c.violation(o, RuleAirflowBehindTLS, "webserver_config.py signs users in over HTTPS but does not set SESSION_COOKIE_SECURE = True: the session cookie may travel over plain HTTP"))
			}
			for _, x := range c.objects {
				cfg, _ := At(x.Body, "data", "airflow.cfg").(string)
				if x.Kind == "ConfigMap" && x.Namespace == o.Namespace && cfg != "" && !strings.EqualFold(iniValue(cfg, "fab", "enable_proxy_fix"), "True") {
					out = append(out, c.violation(x, RuleAirflowBehindTLS, "airflow.cfg has [fab] enable_proxy_fix = %q behind a load balancer that terminates TLS: FAB would send Cognito an http:// callback URL, which it refuses", iniValue(cfg, "fab", "enable_proxy_fix")))
				}
			}
		}
	}
	return out
}
