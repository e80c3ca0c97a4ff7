package plan

import (
	"fmt"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleHooks is the check that a release's Jobs work with the waits
// pulumi-kubernetes gives a release (Helm's install and upgrade with
// --wait).
const RuleHooks = "k8s/hooks"

// InitWaits maps an init container that waits for a Job of its release to
// the component label of that Job: the Airflow chart's
// wait-for-airflow-migrations runs `airflow db check-migrations` until the
// migration Job has run.
var InitWaits = map[string]string{"wait-for-airflow-migrations": "run-airflow-migrations"}

// checkHooks checks two things Helm's --wait makes fatal:
//   - a release Helm waits for has no pod that waits for one of the
//     release's post-install or post-upgrade hooks: Helm runs those only
//     once the release's pods are ready, so neither ever happens and the
//     release times out (the Airflow chart's documentation: with --wait,
//     set migrateDatabaseJob and createUserJob useHelmHooks to false);
//   - a Job the release keeps (not a hook) is deleted once finished
//     (ttlSecondsAfterFinished: 0): a Job's pod template cannot change, so
//     an upgrade that changes it (a new image, a rotation's annotation)
//     while the Job still exists fails, and one that finds it gone makes
//     it again, which runs it again.
func checkHooks(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	postHooks := map[string]map[string]ClusterObject{} // release → component → hook Job
	for _, o := range c.objects {
		owner := c.owners[o.Owner]
		if o.Kind != "Job" || o.Derived || owner.Type != ReleaseType {
			continue
		}
		if o.Hook == "" {
			if ttl, ok := number(At(o.Body, "spec", "ttlSecondsAfterFinished")); !ok || ttl != 0 {
				kept := "for ever"
				if ok {
					kept = fmt.Sprintf("for %g s", ttl)
				}
				out = append(out, c.violation(o, RuleHooks, "is kept by the release, not a hook, and stays %s once finished (ttlSecondsAfterFinished): an upgrade that changes its pod template while it exists fails, as a Job's template cannot change; set ttlSecondsAfterFinished: 0", kept))
			}
			continue
		}
		if strings.Contains(o.Hook, "post-install") || strings.Contains(o.Hook, "post-upgrade") {
			comp := StringAt(o.Body, "spec", "template", "metadata", "labels", "component")
			if postHooks[o.Owner] == nil {
				postHooks[o.Owner] = map[string]ClusterObject{}
			}
			postHooks[o.Owner][comp] = o
		}
	}
	for _, o := range c.objects {
		owner := c.owners[o.Owner]
		if !o.Derived || o.Hook != "" || owner.Type != ReleaseType || At(owner.Inputs, "skipAwait") == true {
			continue
		}
		spec, _ := o.Body["spec"].(map[string]any)
		for _, ic := range listOf(spec["initContainers"]) {
			name := StringAt(ic, "name")
			if job, ok := postHooks[o.Owner][InitWaits[name]]; ok {
				out = append(out, c.violation(o, RuleHooks, "wait (init container %s) for %s, a %s hook, but Helm runs that hook only once the release's pods are ready: the install never completes (make the Job part of the release: useHelmHooks false)", name, job.Key(), job.Hook))
			}
		}
	}
	return out
}

// number reads a JSON or YAML number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
