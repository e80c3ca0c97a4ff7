package cluster

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// provision stands in for Karpenter's provisioning: a pod the scheduler
// cannot place for more than a couple of seconds gets a new node of the
// first NodePool whose nodes it fits (their labels meet its node selector
// and required node affinity, it tolerates their taints, and one node
// holds its requests), one node per such pod; a pod no NodePool fits stays
// pending, as with Karpenter. The node group does not grow (its size is
// the plan's).
func (k *Kubelet) provision(ctx context.Context, pods []corev1.Pod) {
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || k.launched[p.Namespace+"/"+p.Name] {
			continue
		}
		var since time.Time
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				since = c.LastTransitionTime.Time
			}
		}
		if since.IsZero() || time.Since(since) < 2*time.Second {
			continue
		}
		for _, n := range k.c.kinds {
			if n.Pool() == "" || !n.fits(p) {
				continue
			}
			zone := "us-east-1a"
			if len(k.c.zones) > 0 {
				zone = k.c.zones[k.c.nodeSeq%len(k.c.zones)]
			}
			name, err := k.c.AddNode(ctx, n, zone)
			if err == nil {
				k.launched[p.Namespace+"/"+p.Name] = true
				k.logf("Karpenter stand-in: launched %s (%s) for pending pod %s/%s", name, n.Source, p.Namespace, p.Name)
			}
			break
		}
	}
}

// fits says whether a pod may run on a node of this kind.
func (n Node) fits(p *corev1.Pod) bool {
	obj := n.Object("probe", "")
	for k, v := range p.Spec.NodeSelector {
		if obj.Labels[k] != v && !(k == "topology.kubernetes.io/zone") {
			return false
		}
	}
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		ok := false
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			ok = ok || termMatches(term, obj.Labels)
		}
		if !ok {
			return false
		}
	}
	for _, t := range n.Taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for _, tol := range p.Spec.Tolerations {
			tolerated = tolerated || tol.ToleratesTaint(klog.Background(), &t, false)
		}
		if !tolerated {
			return false
		}
	}
	var cpu, mem int64
	for _, c := range p.Spec.Containers {
		cpu += c.Resources.Requests.Cpu().MilliValue()
		mem += c.Resources.Requests.Memory().Value()
	}
	return cpu <= int64(n.AllocatableCPU*1000) && mem <= int64(n.AllocatableGiB*(1<<30))
}

func termMatches(t corev1.NodeSelectorTerm, labels map[string]string) bool {
	for _, e := range t.MatchExpressions {
		v, has := labels[e.Key]
		in := false
		for _, x := range e.Values {
			in = in || x == v
		}
		switch e.Operator {
		case corev1.NodeSelectorOpIn:
			if !has || !in {
				return false
			}
		case corev1.NodeSelectorOpNotIn:
			if has && in {
				return false
			}
		case corev1.NodeSelectorOpExists:
			if !has {
				return false
			}
		case corev1.NodeSelectorOpDoesNotExist:
			if has {
				return false
			}
		default:
			return false // Gt, Lt: not used by the platform's pods
		}
	}
	return true
}
