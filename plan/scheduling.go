package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleScheduling is the check that every pod a release starts has nodes to
// run on when the release is installed.
const RuleScheduling = "k8s/scheduling"

// nodeSource is a set of nodes the plan provides: a managed node group or
// a Karpenter NodePool.
type nodeSource struct {
	urn, name string
	// labels holds, for each label, the values its nodes may carry.
	labels map[string][]string
	taints []map[string]any
}

// nodeSources lists the node groups and NodePools of the plan.
func (c *clusterView) nodeSources() []nodeSource {
	var out []nodeSource
	for _, r := range c.p.Resources {
		switch {
		case r.Type == "aws:eks/nodeGroup:NodeGroup":
			arch := "amd64"
			if strings.Contains(StringAt(r.Inputs, "amiType"), "ARM_64") {
				arch = "arm64"
			}
			s := nodeSource{urn: r.URN, name: "node group " + r.Name, labels: map[string][]string{
				"kubernetes.io/arch": {arch}, "kubernetes.io/os": {"linux"},
				"eks.amazonaws.com/capacityType": {StringAt(r.Inputs, "capacityType")},
			}}
			for k, v := range stringMap(r.Inputs["labels"]) {
				s.labels[k] = []string{v}
			}
			for _, t := range listOf(r.Inputs["taints"]) {
				effect := map[string]string{"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[StringAt(t, "effect")]
				s.taints = append(s.taints, map[string]any{"key": t["key"], "value": t["value"], "effect": effect})
			}
			out = append(out, s)
		case r.Type == "kubernetes:karpenter.sh/v1:NodePool":
			name := StringAt(r.Inputs, "metadata", "name")
			s := nodeSource{urn: r.URN, name: "NodePool " + name, labels: map[string][]string{
				"kubernetes.io/os": {"linux"}, "karpenter.sh/nodepool": {name},
			}}
			for k, v := range stringMap(At(r.Inputs, "spec", "template", "metadata", "labels")) {
				s.labels[k] = []string{v}
			}
			for _, req := range listOf(At(r.Inputs, "spec", "template", "spec", "requirements")) {
				if StringAt(req, "operator") == "In" {
					s.labels[StringAt(req, "key")] = Strings(req["values"])
				}
			}
			s.taints = listOf(At(r.Inputs, "spec", "template", "spec", "taints"))
			out = append(out, s)
		}
	}
	return out
}

// fits reports whether a pod spec may run on the source's nodes, and why not.
func (s nodeSource) fits(spec map[string]any) (bool, string) {
	for k, v := range stringMap(spec["nodeSelector"]) {
		if !slices.Contains(s.labels[k], v) {
			return false, fmt.Sprintf("nodeSelector %s=%s", k, v)
		}
	}
	terms := listOf(At(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"))
	if len(terms) > 0 {
		any := false
		for _, term := range terms {
			any = any || s.matchesTerm(term)
		}
		if !any {
			return false, "required node affinity"
		}
	}
	for _, t := range s.taints {
		effect, _ := t["effect"].(string)
		if effect != "NoSchedule" && effect != "NoExecute" {
			continue
		}
		if !tolerated(t, listOf(spec["tolerations"])) {
			return false, fmt.Sprintf("taint %v=%v:%s", t["key"], t["value"], effect)
		}
	}
	return true, ""
}

func (s nodeSource) matchesTerm(term map[string]any) bool {
	for _, e := range listOf(term["matchExpressions"]) {
		key, op, values := StringAt(e, "key"), StringAt(e, "operator"), Strings(e["values"])
		allowed, known := s.labels[key]
		switch op {
		case "In":
			ok := false
			for _, v := range values {
				ok = ok || slices.Contains(allowed, v)
			}
			if !ok {
				return false
			}
		case "Exists":
			if !known {
				return false
			}
		case "DoesNotExist":
			if known {
				return false
			}
		case "NotIn":
			if known && len(allowed) == 1 && slices.Contains(values, allowed[0]) {
				return false
			}
		}
	}
	return true
}

// tolerated reports whether one of the tolerations admits the taint.
func tolerated(taint map[string]any, tolerations []map[string]any) bool {
	for _, t := range tolerations {
		key, op := StringAt(t, "key"), StringAt(t, "operator")
		if op == "" {
			op = "Equal"
		}
		if key != "" && key != taint["key"] {
			continue
		}
		if key == "" && op != "Exists" {
			continue
		}
		if e := StringAt(t, "effect"); e != "" && e != taint["effect"] {
			continue
		}
		if op == "Exists" || fmt.Sprint(t["value"]) == fmt.Sprint(taint["value"]) {
			return true
		}
	}
	return false
}

// checkScheduling checks that the pods a release starts at install (those
// of its workloads and hook Jobs and Pods, not DaemonSets, which follow the
// nodes, nor pods made later from a pod template) fit some node source, and
// that the release waits for one they fit: otherwise they stay Pending and
// the install times out.
func checkScheduling(c *clusterView) []mocks.Violation {
	sources := c.nodeSources()
	if len(sources) == 0 {
		return nil // a cluster the program does not manage (examples/)
	}
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" || strings.HasPrefix(o.From, "DaemonSet ") || strings.HasPrefix(o.From, "ConfigMap ") {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		var fit, waited []string
		var why []string
		for _, s := range sources {
			ok, reason := s.fits(spec)
			if !ok {
				why = append(why, s.name+": "+reason)
				continue
			}
			fit = append(fit, s.name)
			if c.waitsFor(o.Owner, s.urn) {
				waited = append(waited, s.name)
			}
		}
		sort.Strings(why)
		switch {
		case len(fit) == 0:
			out = append(out, c.violation(o, RuleScheduling, "fit no node the plan provides (%s): they would stay Pending", strings.Join(why, "; ")))
		case len(waited) == 0:
			out = append(out, c.violation(o, RuleScheduling, "are started before any node they fit exists: %s waits for none of %s", c.owners[o.Owner].Name, strings.Join(fit, ", ")))
		}
	}
	return out
}
