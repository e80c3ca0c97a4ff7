package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DisruptedTaint is the taint Karpenter puts on a node it is about to
// drain, so nothing new lands there.
const DisruptedTaint = "karpenter.sh/disrupted"

// Roll is how long one node's replacement took.
type Roll struct {
	Node, Replacement string
	// Took is the whole replacement; Launch the wait for the replacement
	// node to be Ready, Drain the evictions until the node was empty.
	Took, Launch, Drain time.Duration
	// Evictions is how many pods were evicted; Refused how many times the
	// eviction API refused one (a disruption budget held it).
	Evictions, Refused int
}

// RollNode replaces a node as a node-image rollout, a Kubernetes upgrade or
// Karpenter's expiry does: a replacement node of the same kind in the same
// zone first, then the old node tainted (Karpenter's disrupted taint) and
// cordoned, each of its pods evicted through the eviction API (retried
// while a PodDisruptionBudget refuses, as Karpenter's eviction queue
// retries), and the node deleted once its pods are gone. It fails when the
// node is not empty within limit, naming the pods left and what refused
// them.
func (c *Cluster) RollNode(ctx context.Context, name string, kind Node, limit time.Duration) (Roll, error) {
	start := time.Now()
	roll := Roll{Node: name}
	old, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return roll, err
	}
	if roll.Replacement, err = c.AddNode(ctx, kind, old.Labels["topology.kubernetes.io/zone"]); err != nil {
		return roll, err
	}
	if err := c.waitNodeReady(ctx, roll.Replacement, time.Minute); err != nil {
		return roll, err
	}
	roll.Launch = time.Since(start)
	drain := time.Now()
	taints := append(old.Spec.Taints, corev1.Taint{Key: DisruptedTaint, Effect: corev1.TaintEffectNoSchedule})
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"unschedulable": true, "taints": taints}})
	if _, err := c.Client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return roll, err
	}
	refusals := map[string]string{}
	for {
		pods, err := c.podsOn(ctx, name)
		if err != nil {
			return roll, err
		}
		if len(pods) == 0 {
			break
		}
		if time.Since(start) > limit {
			var left []string
			for _, p := range pods {
				left = append(left, p.Namespace+"/"+p.Name+" ("+refusals[p.Namespace+"/"+p.Name]+")")
			}
			sort.Strings(left)
			return roll, fmt.Errorf("node %s not drained after %s: %s", name, limit, strings.Join(left, "; "))
		}
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
			err := c.Client.PolicyV1().Evictions(p.Namespace).Evict(ctx, ev)
			switch {
			case err == nil:
				roll.Evictions++
			case apierrors.IsTooManyRequests(err):
				roll.Refused++
				refusals[p.Namespace+"/"+p.Name] = err.Error()
			case apierrors.IsNotFound(err):
			default:
				return roll, fmt.Errorf("evicting %s/%s: %w", p.Namespace, p.Name, err)
			}
		}
		time.Sleep(time.Second)
	}
	roll.Drain = time.Since(drain)
	if err := c.Client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return roll, err
	}
	roll.Took = time.Since(start)
	return roll, nil
}

// podsOn lists the pods a drain evicts from a node: all but DaemonSets'
// (Karpenter and kubectl drain leave those, which tolerate the taints) and
// those already finished.
func (c *Cluster) podsOn(ctx context.Context, node string) ([]corev1.Pod, error) {
	list, err := c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.Kind == "DaemonSet" {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *Cluster) waitNodeReady(ctx context.Context, name string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("node %s not Ready after %s (KWOK: %s)", name, limit, "see logs/kwok.log")
}
