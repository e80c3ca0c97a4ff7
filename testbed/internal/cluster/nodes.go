package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// NodeAnnotation marks the nodes KWOK manages.
const NodeAnnotation = "kwok.x-k8s.io/node"

// Node is a kind of node the plan provides, as `cmd/plan -nodes` prints it
// (insights.Node).
type Node struct {
	Source         string            `json:"source"`
	InstanceType   string            `json:"instanceType"`
	Count          int               `json:"count"`
	AllocatableCPU float64           `json:"allocatableCpu"`
	AllocatableGiB float64           `json:"allocatableGiB"`
	Labels         map[string]string `json:"labels"`
	Taints         []corev1.Taint    `json:"taints"`
}

// ReadNodes reads the output of `cmd/plan -nodes`.
func ReadNodes(path string) ([]Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Node
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Pool is the NodePool a node of this kind belongs to ("" for the node
// group's).
func (n Node) Pool() string { return n.Labels["karpenter.sh/nodepool"] }

// MaxPods is the pods a node holds. EKS sets it from the instance type's
// network interfaces; 110 is the kubelet's default and the figure with
// prefix delegation (the VPC CNI's ENABLE_PREFIX_DELEGATION) for the
// types the plan uses.
const MaxPods = 110

// Object is the Node object of the i-th node of this kind in a zone: the
// labels the node group or Karpenter gives it, its taints and allocatable
// capacity, and KWOK's annotation.
func (n Node) Object(name, zone string) *corev1.Node {
	labels := map[string]string{"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone,
		"topology.kubernetes.io/region": strings.TrimRight(zone, "abcdef"), "type": "kwok"}
	for k, v := range n.Labels {
		labels[k] = v
	}
	if n.Pool() != "" {
		labels["karpenter.sh/registered"] = "true"
		labels["karpenter.sh/initialized"] = "true"
	}
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(n.AllocatableCPU*1000), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(n.AllocatableGiB*(1<<30)), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(MaxPods, resource.DecimalSI),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels,
			Annotations: map[string]string{NodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"}},
		Spec: corev1.NodeSpec{Taints: n.Taints, ProviderID: "kwok://" + name},
		Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc,
			NodeInfo: corev1.NodeSystemInfo{Architecture: n.Labels["kubernetes.io/arch"], OperatingSystem: "linux", KubeletVersion: "v1.35.4"}},
	}
}

// AddNodes creates every node of the plan: the node group's at its
// desired size, and each NodePool's as many as its always-on pods need, at
// least one (stand-in for Karpenter, which brings a pool's first node when
// a pod of it is pending), spread over the zones. It returns the names.
func (c *Cluster) AddNodes(ctx context.Context, nodes []Node, zones []string) ([]string, error) {
	c.kinds, c.zones = nodes, zones
	var names []string
	i := 0
	for _, n := range nodes {
		for k := 0; k < max(n.Count, 1); k++ {
			name, err := c.AddNode(ctx, n, zones[i%len(zones)])
			if err != nil {
				return nil, err
			}
			names = append(names, name)
			i++
		}
	}
	return names, nil
}

// AddNode creates one node of a kind in a zone, named after its source.
func (c *Cluster) AddNode(ctx context.Context, n Node, zone string) (string, error) {
	c.nodeSeq++
	src := strings.NewReplacer("node group ", "ng-", "NodePool ", "pool-", " ", "-").Replace(n.Source)
	name := fmt.Sprintf("%s-%d", src, c.nodeSeq)
	created, err := c.Client.CoreV1().Nodes().Create(ctx, n.Object(name, zone), metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("node %s: %w", name, err)
	}
	// Ready at once, as a kubelet that has joined reports it (KWOK's own
	// node stage plays tens of seconds late here); KWOK then keeps its
	// lease.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		now := metav1.Now()
		created.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}}
		_, err := c.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			// KWOK or the node controller wrote it meanwhile.
			if cur, gerr := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); gerr == nil {
				created = cur
			}
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("node %s: %w", name, err)
	}
	return name, nil
}

// writeStages writes KWOK's configuration: a pod stage that matches no pod,
// so that KWOK leaves pods to the kubelet stand-in (Kubelet) and runs the
// nodes with its own node stages (KWOK loads its default pod stages only
// when none is configured). KWOK's pod stages are in from, for reference.
func writeStages(from, to string) (string, error) {
	if _, err := os.Stat(filepath.Join(from, "pod-ready.yaml")); err != nil {
		return "", fmt.Errorf("KWOK's stages: %w", err)
	}
	const none = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-none
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.annotations.testbedkwok'
      operator: 'In'
      values:
      - 'never-set'
  next:
    statusTemplate: ""
`
	return to, os.WriteFile(to, []byte(none), 0o644)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
