package plan

import (
	"fmt"
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
