package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dataplatform/dataplatform/testbed/internal/eso"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// testStore answers every secret the plan's ExternalSecrets read with a
// JSON object holding a test value for each property they read (stand-in
// for Secrets Manager).
type testStore map[string][]string

func (s testStore) SecretString(arn string) (string, error) {
	props := s[arn]
	m := map[string]string{}
	for _, p := range props {
		if p != "" {
			m[p] = "testbed-" + p
		}
	}
	if len(m) == 0 {
		return "testbed-secret-string", nil
	}
	b, _ := json.Marshal(m)
	return string(b), nil
}

// syncSecret stands in for External Secrets once it has synced an
// ExternalSecret: the target Secret, rendered from the ExternalSecret's
// template with test values and owned by it (creationPolicy Owner, ESO's
// default, so it goes when the ExternalSecret goes), and the
// ExternalSecret's Ready condition.
func (c *Cluster) syncSecret(ctx context.Context, u *unstructured.Unstructured) error {
	obj := planjson.Object{Map: u.Object}
	secrets, err := eso.Sync([]planjson.Object{obj}, testStore(eso.Refs([]planjson.Object{obj})))
	if err != nil {
		return err
	}
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, s := range secrets {
		s.Map["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{
			"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "name": u.GetName(), "uid": string(cur.GetUID()),
			"controller": true, "blockOwnerDeletion": true}}
		body, _ := json.Marshal(s.Map)
		if _, err := c.Client.CoreV1().Secrets(u.GetNamespace()).Patch(ctx, obj.Name(), types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: "external-secrets", Force: ptr(true)}); err != nil {
			// The target's name is the ExternalSecret's unless it names one.
			name := s.Map["metadata"].(map[string]any)["name"].(string)
			if _, err := c.Client.CoreV1().Secrets(u.GetNamespace()).Patch(ctx, name, types.ApplyPatchType, body,
				metav1.PatchOptions{FieldManager: "external-secrets", Force: ptr(true)}); err != nil {
				return fmt.Errorf("the Secret it syncs: %w", err)
			}
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	_ = unstructured.SetNestedSlice(cur.Object, []any{map[string]any{"type": "Ready", "status": "True", "reason": "SecretSynced",
		"message": "secret synced (test bed stand-in)", "lastTransitionTime": now}}, "status", "conditions")
	_ = unstructured.SetNestedField(cur.Object, now, "status", "refreshTime")
	_, err = ri.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

// Kubelet stands in for the kubelet of every node: it starts a scheduled
// pod's containers (writes the status KWOK's pod-ready stage writes) only
// once the Secrets and ConfigMaps it mounts or reads exist (until then the
// kubelet reports CreateContainerConfigError or ContainerCreating, and the
// pod is not Ready), completes a pod that runs to completion (restartPolicy
// Never or OnFailure: a Job's, a hook's, a task's), and removes a pod being
// deleted. KWOK runs the nodes (their status and leases); its pod stages
// react to changes tens of seconds late here, so this loop, every 250 ms,
// plays them. It also stands in for the
// EBS CSI driver: a claim of a storage class whose provisioner is
// ebs.csi.aws.com gets a volume (in the zone of the node the scheduler
// chose, for WaitForFirstConsumer). It runs until ctx ends.
type Kubelet struct {
	c       *Cluster
	mu      sync.Mutex
	waiting map[string][]string // pod → what it waits for
	// migrated is the namespaces whose Airflow database a migration job
	// has migrated (the database keeps it when the Job is gone).
	migrated map[string]bool
	logf     func(string, ...any)
	since    map[string]time.Time // pod → when it first waited
	ip       int                  // the last pod address given
	launched map[string]bool      // pods a node was launched for
}

// StartKubelet starts the stand-ins' loop; logf hears when a pod waits
// and when it may start.
func (c *Cluster) StartKubelet(ctx context.Context, logf func(string, ...any)) *Kubelet {
	k := &Kubelet{c: c, waiting: map[string][]string{}, migrated: map[string]bool{}, logf: logf, since: map[string]time.Time{}, launched: map[string]bool{}}
	go func() {
		for ctx.Err() == nil {
			k.pass(ctx)
			time.Sleep(250 * time.Millisecond)
		}
	}()
	return k
}

// Waiting lists the pods whose containers cannot start, with what each
// lacks.
func (k *Kubelet) Waiting() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for p, refs := range k.waiting {
		out = append(out, fmt.Sprintf("%s lacks %s", p, strings.Join(refs, ", ")))
	}
	sort.Strings(out)
	return out
}

func (k *Kubelet) pass(ctx context.Context) {
	cs := k.c.Client.CoreV1()
	pods, err := cs.Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	waiting := map[string][]string{}
	for _, p := range pods.Items {
		if p.Labels["component"] == "run-airflow-migrations" && p.Status.Phase == corev1.PodSucceeded {
			k.migrated[p.Namespace] = true
		}
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.Spec.NodeName == "":
		case p.DeletionTimestamp != nil:
			// The kubelet has stopped the containers: the pod goes.
			_ = cs.Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
		case p.Status.Phase == corev1.PodRunning && p.Spec.RestartPolicy != corev1.RestartPolicyAlways:
			k.finish(ctx, p) // a pod that runs to completion completes
		case p.Status.Phase == corev1.PodRunning && !podReady(p):
			// The node controller marked it not ready while its node's
			// lease was late; the kubelet reports it ready again.
			k.reready(ctx, p)
		case p.Status.Phase == "" || p.Status.Phase == corev1.PodPending:
			if missing := k.blockers(ctx, p); len(missing) > 0 {
				waiting[p.Namespace+"/"+p.Name] = missing
				k.noteWait(p, missing)
				continue
			}
			k.noteStart(p)
			k.run(ctx, p)
		}
	}
	k.mu.Lock()
	k.waiting = waiting
	k.mu.Unlock()
	k.provision(ctx, pods.Items)
	k.volumes(ctx)
}

// blockers is what keeps a pod's containers from starting.
func (k *Kubelet) blockers(ctx context.Context, p *corev1.Pod) []string {
	cs := k.c.Client.CoreV1()
	var missing []string
	for _, ref := range podRefs(p) {
		kind, nn, _ := strings.Cut(ref, " ")
		_, name, _ := strings.Cut(nn, "/")
		var err error
		if kind == "Secret" {
			_, err = cs.Secrets(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		} else {
			_, err = cs.ConfigMaps(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		}
		if apierrors.IsNotFound(err) {
			missing = append(missing, ref)
		}
	}
	missing = append(missing, k.initWaits(ctx, p)...)
	if len(missing) == 0 {
		if err := k.bootloader(ctx, p); err != nil {
			missing = append(missing, err.Error())
		}
	}
	return missing
}

func (k *Kubelet) noteWait(p *corev1.Pod, missing []string) {
	key := p.Namespace + "/" + p.Name
	if _, ok := k.since[key]; !ok {
		k.since[key] = time.Now()
		k.logf("kubelet stand-in: pod %s waits: %s", key, strings.Join(missing, ", "))
	}
}

func (k *Kubelet) noteStart(p *corev1.Pod) {
	key := p.Namespace + "/" + p.Name
	if t, ok := k.since[key]; ok {
		k.logf("kubelet stand-in: pod %s starts after waiting %s", key, time.Since(t).Round(100*time.Millisecond))
		delete(k.since, key)
	}
}

// run writes the status of a pod whose containers started and are ready,
// as KWOK's pod-ready stage writes it: its init containers completed, its
// containers running, its readiness gates met, an address.
func (k *Kubelet) run(ctx context.Context, p *corev1.Pod) {
	now := metav1.Now()
	k.ip++
	ip := fmt.Sprintf("10.96.%d.%d", k.ip/250, 1+k.ip%250)
	st := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "10.0.0.1", StartTime: &now, QOSClass: p.Status.QOSClass}
	for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, g := range p.Spec.ReadinessGates {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: g.ConditionType, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range p.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}})
	}
	for _, c := range p.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: true, Started: ptr(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
	}
	p.Status = st
	_, _ = k.c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (k *Kubelet) reready(ctx context.Context, p *corev1.Pod) {
	for i := range p.Status.Conditions {
		if t := p.Status.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
			p.Status.Conditions[i].Status = corev1.ConditionTrue
			p.Status.Conditions[i].Reason = ""
			p.Status.Conditions[i].LastTransitionTime = metav1.Now()
		}
	}
	_, _ = k.c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}

// finish writes the status of a pod whose containers exited with 0.
func (k *Kubelet) finish(ctx context.Context, p *corev1.Pod) {
	if p.Labels["component"] == "run-airflow-migrations" {
		k.migrated[p.Namespace] = true // its Job may be gone at once (ttlSecondsAfterFinished 0)
	}
	now := metav1.Now()
	p.Status.Phase = corev1.PodSucceeded
	for i := range p.Status.Conditions {
		if t := p.Status.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
			p.Status.Conditions[i].Status = corev1.ConditionFalse
			p.Status.Conditions[i].Reason = "PodCompleted"
		}
	}
	for i := range p.Status.ContainerStatuses {
		c := &p.Status.ContainerStatuses[i]
		c.Ready, c.Started = false, ptr(false)
		c.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}
	}
	_, _ = k.c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}

// MigrationsInit is the init container of Airflow's chart that runs
// `airflow db check-migrations --migration-wait-timeout=60` and fails (and
// is restarted, with back-off) until the database is migrated; the
// migration job's pods carry component=run-airflow-migrations.
const MigrationsInit = "wait-for-airflow-migrations"

// initWaits models the init containers that wait for something outside
// the pod (KWOK completes init containers at once): Airflow's
// wait-for-airflow-migrations completes only once a migration job's pod
// has succeeded in the namespace (the apps bed runs the real command,
// which fails on a database the job has not migrated).
func (k *Kubelet) initWaits(ctx context.Context, p *corev1.Pod) []string {
	for _, ic := range p.Spec.InitContainers {
		if ic.Name != MigrationsInit {
			continue
		}
		if k.migrated[p.Namespace] {
			return nil
		}
		return []string{"init container " + MigrationsInit + " (no migration job has run: `airflow db check-migrations` fails)"}
	}
	return nil
}

// bootloader stands in for what Airbyte's bootloader does besides
// migrating the database (its Java code needs the database, and its image a
// container runtime): with AB_AUTH_SECRET_CREATION_ENABLED, it creates the
// Secret AB_KUBERNETES_SECRET_NAME names (airbyte-auth-secrets) holding a
// value for each key its *_SECRET_KEY variables name, unless it exists.
// It creates it as the pod's service account, with a token of it, so the
// account's RBAC decides as it does on EKS.
func (k *Kubelet) bootloader(ctx context.Context, p *corev1.Pod) error {
	name := k.env(ctx, p, "AB_KUBERNETES_SECRET_NAME")
	if name == "" || k.env(ctx, p, "AB_AUTH_SECRET_CREATION_ENABLED") != "true" {
		return nil
	}
	data := map[string]string{}
	for _, ct := range p.Spec.Containers {
		for _, e := range ct.Env {
			if strings.HasSuffix(e.Name, "_SECRET_KEY") {
				if key := k.env(ctx, p, e.Name); key != "" {
					data[key] = "testbed-bootloader-" + key
				}
			}
		}
	}
	token, err := k.c.Token(ctx, p.Namespace, p.Spec.ServiceAccountName)
	if err != nil {
		return err
	}
	as, err := k.c.As(token)
	if err != nil {
		return err
	}
	_, err = as.CoreV1().Secrets(p.Namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("its bootloader cannot create Secret %s as %s: %v", name, p.Spec.ServiceAccountName, err)
	}
	return nil
}

// env resolves a variable of a pod's first container that has it (a value,
// or a ConfigMap's key).
func (k *Kubelet) env(ctx context.Context, p *corev1.Pod, name string) string {
	for _, ct := range p.Spec.Containers {
		for _, e := range ct.Env {
			if e.Name != name {
				continue
			}
			if e.ValueFrom == nil {
				return e.Value
			}
			if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
				cm, err := k.c.Client.CoreV1().ConfigMaps(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
				if err == nil {
					return cm.Data[ref.Key]
				}
			}
		}
	}
	return ""
}

// volumes binds each pending claim of an EBS storage class to a volume made
// for it (stand-in for the EBS CSI driver's provisioning).
func (k *Kubelet) volumes(ctx context.Context) {
	cs := k.c.Client.CoreV1()
	claims, err := cs.PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pvc := range claims.Items {
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" || pvc.Spec.StorageClassName == nil {
			continue
		}
		sc, err := k.c.Client.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
		if err != nil || sc.Provisioner != "ebs.csi.aws.com" {
			continue
		}
		zone := ""
		if node := pvc.Annotations["volume.kubernetes.io/selected-node"]; node != "" {
			n, err := cs.Nodes().Get(ctx, node, metav1.GetOptions{})
			if err != nil {
				continue
			}
			zone = n.Labels["topology.kubernetes.io/zone"]
		} else if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == "WaitForFirstConsumer" {
			continue
		}
		reclaim := corev1.PersistentVolumeReclaimDelete
		if sc.ReclaimPolicy != nil {
			reclaim = *sc.ReclaimPolicy
		}
		size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if size.IsZero() {
			size = resource.MustParse("1Gi")
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pvc-" + string(pvc.UID), Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": sc.Provisioner}},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   pvc.Spec.AccessModes,
				PersistentVolumeReclaimPolicy: reclaim,
				StorageClassName:              sc.Name,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
					Driver: sc.Provisioner, VolumeHandle: "vol-testbed" + string(pvc.UID)[:8], FSType: "ext4"}},
			},
		}
		if zone != "" {
			pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}}}}}}
		}
		_, _ = cs.PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	}
}
