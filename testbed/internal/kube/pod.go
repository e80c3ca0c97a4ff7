// Package kube turns the pods of the plan's rendered objects into what a
// kubelet would hand their containers: the environment (values, ConfigMap
// and Secret keys, $(VAR) expansion), the files of every volume mount, and
// the command line. The test bed then runs the container's command on this
// machine with exactly those (see package bed).
package kube

import (
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Pod is a pod spec, with the object it comes from.
type Pod struct {
	// Source names the object ("Deployment airflow/airflow-scheduler").
	Source    string
	Namespace string
	Labels    map[string]string
	// Annotations are the pod template's.
	Annotations map[string]string
	Spec        PodSpec
}

// PodSpec is the part of a Kubernetes pod spec the test bed runs.
type PodSpec struct {
	ServiceAccountName           string      `json:"serviceAccountName"`
	AutomountServiceAccountToken *bool       `json:"automountServiceAccountToken"`
	InitContainers               []Container `json:"initContainers"`
	Containers                   []Container `json:"containers"`
	Volumes                      []Volume    `json:"volumes"`
	SecurityContext              struct {
		RunAsUser  *int64 `json:"runAsUser"`
		RunAsGroup *int64 `json:"runAsGroup"`
		FSGroup    *int64 `json:"fsGroup"`
	} `json:"securityContext"`
	NodeSelector map[string]string `json:"nodeSelector"`
	Tolerations  []map[string]any  `json:"tolerations"`
}

// Container is a container of a pod.
type Container struct {
	Name            string        `json:"name"`
	Image           string        `json:"image"`
	Command         []string      `json:"command"`
	Args            []string      `json:"args"`
	WorkingDir      string        `json:"workingDir"`
	Env             []EnvVar      `json:"env"`
	EnvFrom         []EnvFrom     `json:"envFrom"`
	VolumeMounts    []VolumeMount `json:"volumeMounts"`
	Ports           []Port        `json:"ports"`
	SecurityContext struct {
		RunAsUser              *int64 `json:"runAsUser"`
		RunAsGroup             *int64 `json:"runAsGroup"`
		ReadOnlyRootFilesystem *bool  `json:"readOnlyRootFilesystem"`
	} `json:"securityContext"`
}

// Port is a container port.
type Port struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
}

// EnvVar is one variable.
type EnvVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		SecretKeyRef    *KeyRef `json:"secretKeyRef"`
		ConfigMapKeyRef *KeyRef `json:"configMapKeyRef"`
		FieldRef        *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
	} `json:"valueFrom"`
}

// KeyRef names a key of a ConfigMap or Secret.
type KeyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

// EnvFrom imports every key of a ConfigMap or Secret.
type EnvFrom struct {
	Prefix       string  `json:"prefix"`
	ConfigMapRef *KeyRef `json:"configMapRef"`
	SecretRef    *KeyRef `json:"secretRef"`
}

// VolumeMount mounts a volume in a container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	SubPath   string `json:"subPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// Volume is a pod volume.
type Volume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name  string      `json:"name"`
		Items []KeyToPath `json:"items"`
	} `json:"configMap"`
	Secret *struct {
		SecretName string      `json:"secretName"`
		Items      []KeyToPath `json:"items"`
	} `json:"secret"`
	EmptyDir              map[string]any `json:"emptyDir"`
	PersistentVolumeClaim map[string]any `json:"persistentVolumeClaim"`
	Projected             map[string]any `json:"projected"`
}

// KeyToPath selects a key of a volume's ConfigMap or Secret.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

// PodOf returns the pod of a workload object (Deployment, StatefulSet,
// DaemonSet, Job, or Pod).
func PodOf(o planjson.Object) (Pod, error) {
	var raw struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec PodSpec `json:"spec"`
	}
	var src any
	switch o.Kind() {
	case "Pod":
		src = o.Map
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		spec, _ := o.Map["spec"].(map[string]any)
		src = spec["template"]
	default:
		return Pod{}, fmt.Errorf("%s has no pod", o.Key())
	}
	if err := planjson.Decode(src, &raw); err != nil {
		return Pod{}, fmt.Errorf("%s: %w", o.Key(), err)
	}
	return Pod{Source: o.Key(), Namespace: o.Namespace(), Labels: raw.Metadata.Labels, Annotations: raw.Metadata.Annotations, Spec: raw.Spec}, nil
}

// PodFromYAML reads a pod written as YAML (Airflow's pod_template_file).
func PodFromYAML(source, namespace string, text string) (Pod, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		return Pod{}, fmt.Errorf("%s: %w", source, err)
	}
	p, err := PodOf(planjson.Object{Map: m})
	p.Source, p.Namespace = source, namespace
	return p, err
}

// Container returns a container (or init container) of the pod by name.
func (p Pod) Container(name string) (Container, error) {
	for _, c := range append(append([]Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		if c.Name == name {
			return c, nil
		}
	}
	return Container{}, fmt.Errorf("%s has no container %q", p.Source, name)
}

// Data is what the kubelet reads: the ConfigMaps and Secrets of each
// namespace, by name, each a map of keys to values.
type Data struct {
	ConfigMaps map[string]map[string]string
	Secrets    map[string]map[string]string
}

// NewData indexes the ConfigMaps and Secrets among objs (a Secret's
// stringData and base64 data both count). Secrets are keyed "ns/name".
func NewData(objs []planjson.Object) *Data {
	d := &Data{ConfigMaps: map[string]map[string]string{}, Secrets: map[string]map[string]string{}}
	for _, o := range objs {
		switch o.Kind() {
		case "ConfigMap":
			d.ConfigMaps[o.Namespace()+"/"+o.Name()] = planjson.Strings(o.Map["data"])
		case "Secret":
			m := map[string]string{}
			for k, v := range planjson.Strings(o.Map["data"]) {
				if b, err := base64.StdEncoding.DecodeString(v); err == nil {
					m[k] = string(b)
				} else {
					m[k] = v // the plan's "[secret]" mask
				}
			}
			for k, v := range planjson.Strings(o.Map["stringData"]) {
				m[k] = v
			}
			d.Secrets[o.Namespace()+"/"+o.Name()] = m
		}
	}
	return d
}

// Fields are the pod's own values the downward API gives (fieldRef).
type Fields struct {
	PodName, PodIP, NodeName, HostIP string
}

// Runnable is a container ready to run: its environment in order, the
// files of its mounts, and its command line.
type Runnable struct {
	Pod       Pod
	Container Container
	// Env are NAME=value pairs, in the kubelet's order (envFrom, then env;
	// a later duplicate wins).
	Env []string
	// Mounts are what appears in the container's filesystem.
	Mounts []Mount
	// Argv is command and args after $(VAR) expansion; empty when the image's
	// entrypoint runs with Args.
	Command, Args []string
	// RunAsUser and RunAsGroup are the effective ids (nil: the image's).
	RunAsUser, RunAsGroup *int64
	ReadOnlyRoot          bool
}

// Mount is a file or directory in the container's filesystem.
type Mount struct {
	// Path is where the container sees it.
	Path string
	// Files are its contents: for a file mount one entry with key "", for a
	// directory each file by relative path. EmptyDir marks a writable empty
	// directory.
	Files map[string]string
	// File marks a single file (a subPath mount): Files[""] is its content.
	File     bool
	EmptyDir bool
	ReadOnly bool
	// Volume names the pod volume.
	Volume string
}

// Resolve builds the Runnable of a container, as the kubelet would, from
// the ConfigMaps and Secrets in d. A missing key that is not optional is
// an error naming the pod, container, variable and object: the kubelet
// would not start such a container (CreateContainerConfigError).
func (p Pod) Resolve(container string, d *Data, f Fields) (*Runnable, error) {
	c, err := p.Container(container)
	if err != nil {
		return nil, err
	}
	e := &environ{pod: p, data: d, fields: f, where: fmt.Sprintf("%s container %s", p.Source, c.Name), env: []string{}, values: map[string]string{}}
	if err := e.fromSources(c.EnvFrom); err != nil {
		return nil, err
	}
	for _, v := range c.Env {
		if err := e.variable(v); err != nil {
			return nil, err
		}
	}
	r := &Runnable{Pod: p, Container: c, Env: e.env, RunAsUser: p.Spec.SecurityContext.RunAsUser, RunAsGroup: p.Spec.SecurityContext.RunAsGroup}
	if c.SecurityContext.RunAsUser != nil {
		r.RunAsUser = c.SecurityContext.RunAsUser
	}
	if c.SecurityContext.RunAsGroup != nil {
		r.RunAsGroup = c.SecurityContext.RunAsGroup
	}
	r.ReadOnlyRoot = c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
	for _, a := range c.Command {
		r.Command = append(r.Command, Expand(a, e.values))
	}
	for _, a := range c.Args {
		r.Args = append(r.Args, Expand(a, e.values))
	}
	for _, vm := range c.VolumeMounts {
		m, err := p.mount(vm, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.where, err)
		}
		r.Mounts = append(r.Mounts, m)
	}
	return r, nil
}

// environ builds a container's environment as the kubelet does: envFrom
// first, then env in order, each value able to refer to earlier ones.
type environ struct {
	pod    Pod
	data   *Data
	fields Fields
	where  string
	env    []string
	values map[string]string
}

func (e *environ) set(k, v string) {
	e.env = append(e.env, k+"="+v)
	e.values[k] = v
}

// source is the Secret or ConfigMap name of the pod's namespace, or nil.
func (e *environ) source(kind, name string) (map[string]string, bool) {
	if kind == "Secret" {
		m, ok := e.data.Secrets[e.pod.Namespace+"/"+name]
		return m, ok
	}
	m, ok := e.data.ConfigMaps[e.pod.Namespace+"/"+name]
	return m, ok
}

// lookup is one key of a Secret or ConfigMap; a missing optional one is
// left out (ok false), a missing required one an error, as the kubelet
// refuses to start the container.
func (e *environ) lookup(kind, name, key string, optional *bool) (string, bool, error) {
	m, ok := e.source(kind, name)
	if !ok {
		if optional != nil && *optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%s: %s %s/%s does not exist", e.where, kind, e.pod.Namespace, name)
	}
	v, ok := m[key]
	if !ok {
		if optional != nil && *optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%s: %s %s/%s has no key %q", e.where, kind, e.pod.Namespace, name, key)
	}
	return v, true, nil
}

// fromSources sets every key of the envFrom Secrets and ConfigMaps.
func (e *environ) fromSources(from []EnvFrom) error {
	for _, ef := range from {
		kind, ref := "ConfigMap", ef.ConfigMapRef
		if ef.SecretRef != nil {
			kind, ref = "Secret", ef.SecretRef
		}
		if ref == nil {
			continue
		}
		m, _ := e.source(kind, ref.Name)
		if m == nil && (ref.Optional == nil || !*ref.Optional) {
			return fmt.Errorf("%s: envFrom %s %s/%s does not exist", e.where, kind, e.pod.Namespace, ref.Name)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.set(ef.Prefix+k, m[k])
		}
	}
	return nil
}

// variable sets one env entry: a value (expanding $(VAR) references), a
// Secret's or ConfigMap's key, or a field of the pod.
func (e *environ) variable(v EnvVar) error {
	switch {
	case v.ValueFrom == nil:
		e.set(v.Name, Expand(v.Value, e.values))
	case v.ValueFrom.SecretKeyRef != nil || v.ValueFrom.ConfigMapKeyRef != nil:
		kind, r := "Secret", v.ValueFrom.SecretKeyRef
		if r == nil {
			kind, r = "ConfigMap", v.ValueFrom.ConfigMapKeyRef
		}
		val, ok, err := e.lookup(kind, r.Name, r.Key, r.Optional)
		if err != nil {
			return fmt.Errorf("%s (variable %s)", err, v.Name)
		}
		if ok {
			e.set(v.Name, val)
		}
	case v.ValueFrom.FieldRef != nil:
		val, ok := map[string]string{
			"metadata.namespace":      e.pod.Namespace,
			"metadata.name":           e.fields.PodName,
			"status.podIP":            e.fields.PodIP,
			"spec.nodeName":           e.fields.NodeName,
			"status.hostIP":           e.fields.HostIP,
			"spec.serviceAccountName": e.pod.Spec.ServiceAccountName,
		}[v.ValueFrom.FieldRef.FieldPath]
		if !ok {
			return fmt.Errorf("%s: variable %s: field %s is not modelled", e.where, v.Name, v.ValueFrom.FieldRef.FieldPath)
		}
		e.set(v.Name, val)
	}
	return nil
}

func (p Pod) mount(vm VolumeMount, d *Data) (Mount, error) {
	var v *Volume
	for i := range p.Spec.Volumes {
		if p.Spec.Volumes[i].Name == vm.Name {
			v = &p.Spec.Volumes[i]
		}
	}
	if v == nil {
		return Mount{}, fmt.Errorf("mount %s: no volume %q", vm.MountPath, vm.Name)
	}
	m := Mount{Path: vm.MountPath, ReadOnly: vm.ReadOnly, Volume: vm.Name}
	var data map[string]string
	var items []KeyToPath
	switch {
	case v.ConfigMap != nil:
		cm, ok := d.ConfigMaps[p.Namespace+"/"+v.ConfigMap.Name]
		if !ok {
			return Mount{}, fmt.Errorf("volume %s: ConfigMap %s/%s does not exist", v.Name, p.Namespace, v.ConfigMap.Name)
		}
		data, items = cm, v.ConfigMap.Items
		m.ReadOnly = true
	case v.Secret != nil:
		s, ok := d.Secrets[p.Namespace+"/"+v.Secret.SecretName]
		if !ok {
			return Mount{}, fmt.Errorf("volume %s: Secret %s/%s does not exist", v.Name, p.Namespace, v.Secret.SecretName)
		}
		data, items = s, v.Secret.Items
		m.ReadOnly = true
	case v.EmptyDir != nil:
		m.EmptyDir = true
		return m, nil
	default:
		return Mount{}, fmt.Errorf("volume %s: only ConfigMap, Secret and emptyDir volumes are modelled", v.Name)
	}
	files := map[string]string{}
	if len(items) > 0 {
		for _, it := range items {
			val, ok := data[it.Key]
			if !ok {
				return Mount{}, fmt.Errorf("volume %s: no key %q", v.Name, it.Key)
			}
			files[it.Path] = val
		}
	} else {
		for k, val := range data {
			files[k] = val
		}
	}
	if vm.SubPath != "" {
		val, ok := files[vm.SubPath]
		if !ok {
			return Mount{}, fmt.Errorf("mount %s: volume %s has no %q", vm.MountPath, v.Name, vm.SubPath)
		}
		m.Files, m.File = map[string]string{"": val}, true
		return m, nil
	}
	m.Files = files
	return m, nil
}

// Expand replaces $(VAR) with the value of a variable defined before it,
// as the kubelet expands command, args and env values: $$ is a literal $,
// and a reference to an undefined variable stays as written.
func Expand(s string, values map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := values[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// Value returns a variable of the environment ("" when unset).
func (r *Runnable) Value(name string) string {
	v := ""
	for _, kv := range r.Env {
		if k, val, _ := strings.Cut(kv, "="); k == name {
			v = val
		}
	}
	return v
}

// File returns the contents of the file the container sees at p.
func (r *Runnable) File(p string) (string, bool) {
	for _, m := range r.Mounts {
		if m.Files == nil {
			continue
		}
		if v, ok := m.Files[""]; ok && m.File && m.Path == p {
			return v, true
		}
		if rel := strings.TrimPrefix(p, strings.TrimSuffix(m.Path, "/")+"/"); rel != p {
			if v, ok := m.Files[path.Clean(rel)]; ok {
				return v, true
			}
		}
	}
	return "", false
}
