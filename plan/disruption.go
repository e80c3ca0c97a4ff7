package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleDisruption is the check that the cluster's own churn (Karpenter's
// consolidation, drift, expiry, spot reclaims) does not kill work: the
// long-running components of the apps each have a PodDisruptionBudget that
// lets one pod go at a time (a single replica's too: a budget of none holds
// a node's drain until the NodePool's terminationGracePeriod, 48 hours,
// and fails an EKS node group update, which gives up after 15 minutes of
// refused evictions; the cluster test bed rolls every node), the pods that run syncs and tasks carry
// karpenter.sh/do-not-disrupt, and no pod with a volume of its own (a
// ReadWriteOnce claim, a StatefulSet's claims) can land on spot nodes.
const RuleDisruption = "k8s/disruption"

// AppReleases are the releases whose long-running components syncs and
// tasks depend on.
var AppReleases = []string{"airbyte", "airflow"}

// NoBudgetNeeded are the apps' workloads no sync or task depends on, with
// why they need no PodDisruptionBudget.
var NoBudgetNeeded = map[string]string{
	"airflow-statsd": "the chart's StatsD exporter (only when nothing else receives metrics): a restart loses a few seconds of metrics, and the chart offers no budget for it",
}

func checkDisruption(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	var sources []nodeSource // read once, when a pod with a volume asks
	pdbs := map[string][]ClusterObject{}
	for _, o := range c.objects {
		if o.Kind == "PodDisruptionBudget" {
			pdbs[o.Namespace] = append(pdbs[o.Namespace], o)
		}
	}
	for _, o := range c.objects {
		owner := c.owners[o.Owner]
		isApp := owner.Type == ReleaseType && slices.Contains(AppReleases, StringAt(owner.Inputs, "name"))
		if _, exempt := NoBudgetNeeded[o.Name]; isApp && !exempt && (o.Kind == "Deployment" || o.Kind == "StatefulSet") {
			out = append(out, checkBudget(c, o, pdbs[o.Namespace])...)
		}
		if RunsUserCode(o) && StringAt(o.Body, "metadata", "annotations", "karpenter.sh/do-not-disrupt") != "true" {
			out = append(out, c.violation(o, RuleDisruption, "runs syncs or tasks without karpenter.sh/do-not-disrupt: consolidation or drift may evict them halfway"))
		}
		if o.Kind == "Pod" && o.Derived && ownsVolume(c, o) {
			if sources == nil {
				sources = c.nodeSources()
			}
			spec, _ := o.Body["spec"].(map[string]any)
			for _, s := range sources {
				if ok, _ := s.fits(spec); ok && slices.Contains(s.labels["karpenter.sh/capacity-type"], "spot") {
					out = append(out, c.violation(o, RuleDisruption, "has a volume of its own but may run on %s, whose spot nodes are reclaimed", s.name))
				}
			}
		}
	}
	return out
}

// checkBudget checks that one PodDisruptionBudget selects the workload's
// pods and allows what its replicas call for.
func checkBudget(c *clusterView, w ClusterObject, pdbs []ClusterObject) []mocks.Violation {
	labels := stringMap(At(w.Body, "spec", "template", "metadata", "labels"))
	replicas := replicasOf(w.Body)
	var matching []ClusterObject
	for _, p := range pdbs {
		sel, _ := At(p.Body, "spec", "selector").(map[string]any)
		if len(sel) > 0 && selects(sel, labels) {
			matching = append(matching, p)
		}
	}
	switch {
	case len(matching) == 0:
		return []mocks.Violation{c.violation(w, RuleDisruption, "has no PodDisruptionBudget: a drain may evict all %d of its pods at once", replicas)}
	case len(matching) > 1:
		return []mocks.Violation{c.violation(w, RuleDisruption, "is selected by %d PodDisruptionBudgets; the eviction API refuses to evict pods with more than one", len(matching))}
	}
	allowed, ok := allowedDisruptions(matching[0], replicas)
	if !ok || allowed != 1 {
		why := "one at a time keeps the others serving"
		if allowed < 1 {
			why = "with none, a drain of its node waits for the NodePool's terminationGracePeriod, and an EKS node group update fails after 15 minutes"
		}
		return []mocks.Violation{c.violation(w, RuleDisruption, "has %d replicas but its budget %s allows %d evictions at once (want 1: %s)", replicas, matching[0].Name, allowed, why)}
	}
	return nil
}

// allowedDisruptions is how many of replicas healthy pods a budget lets be
// evicted at once.
func allowedDisruptions(pdb ClusterObject, replicas int) (int, bool) {
	value := func(key string) (int, bool) {
		switch v := At(pdb.Body, "spec", key).(type) {
		case float64:
			return int(v), true
		case int:
			return v, true
		case string:
			var pct int
			if _, err := fmt.Sscanf(strings.TrimSuffix(v, "%"), "%d", &pct); err == nil && strings.HasSuffix(v, "%") {
				return replicas * pct / 100, true
			}
		}
		return 0, false
	}
	if n, ok := value("maxUnavailable"); ok {
		return n, true
	}
	if n, ok := value("minAvailable"); ok {
		return max(replicas-n, 0), true
	}
	return 0, false
}

// ownsVolume reports a pod with a volume that binds it to one node's
// zone: a ReadWriteOnce claim (EBS) or a StatefulSet's claim templates.
func ownsVolume(c *clusterView, pod ClusterObject) bool {
	if strings.HasPrefix(pod.From, "StatefulSet ") {
		for _, o := range c.objects {
			if o.Key() == pod.From && At(o.Body, "spec", "volumeClaimTemplates") != nil {
				return true
			}
		}
	}
	spec, _ := pod.Body["spec"].(map[string]any)
	for _, v := range listOf(spec["volumes"]) {
		claim := StringAt(v, "persistentVolumeClaim", "claimName")
		if claim == "" {
			continue
		}
		for _, o := range c.objects {
			if o.Kind == "PersistentVolumeClaim" && o.Name == claim && o.Namespace == pod.Namespace &&
				!slices.Contains(Strings(At(o.Body, "spec", "accessModes")), "ReadWriteMany") {
				return true
			}
		}
	}
	return false
}
