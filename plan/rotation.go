package plan

import (
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleRotation is the check that pods roll when credentials they read
// rotate.
const RuleRotation = "k8s/rotation"

// CredentialsAnnotation names the rotating credentials an ExternalSecret's
// Secret holds; pods that read the Secret carry it too (see
// components/secretsync).
const CredentialsAnnotation = "dataplatform.io/credentials"

// checkRotation checks that every long-running pod that reads a Secret of
// rotating credentials (an ExternalSecret annotated with
// CredentialsAnnotation) carries the same annotation: when the credentials
// rotate, the annotation changes and the pods roll onto the new ones while
// the old ones still work. Pods made anew for every run (Jobs, hook Pods,
// Airflow's task pods) read the Secret when they start.
func checkRotation(c *clusterView) []mocks.Violation {
	rotating := map[string]string{} // namespace/secret -> credentials
	for _, o := range c.objects {
		if o.Kind == "ExternalSecret" {
			if cred := o.Annotations()[CredentialsAnnotation]; cred != "" {
				rotating[o.Namespace+"/"+StringAt(o.Body, "spec", "target", "name")] = cred
			}
		}
	}
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" || !o.Derived || o.Hook != "" || !longRunning(o.From) {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		for secret := range secretsRead(spec) {
			cred, ok := rotating[o.Namespace+"/"+secret]
			if !ok {
				continue
			}
			if got := stringMap(At(o.Body, "metadata", "annotations"))[CredentialsAnnotation]; got != cred {
				out = append(out, c.violation(o, RuleRotation, "read Secret %s, which holds credentials %s, but carry %s=%q: they would keep the old credentials after a rotation until something restarts them", secret, cred, CredentialsAnnotation, got))
			}
		}
	}
	return out
}

// longRunning reports whether a workload keeps its pods running.
func longRunning(from string) bool {
	for _, k := range []string{"Deployment ", "StatefulSet ", "DaemonSet "} {
		if len(from) >= len(k) && from[:len(k)] == k {
			return true
		}
	}
	return false
}

// secretsRead returns the Secrets a pod spec reads: in env, envFrom and
// volumes.
func secretsRead(spec map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, list := range []string{"initContainers", "containers"} {
		for _, ctr := range listOf(spec[list]) {
			for _, e := range listOf(ctr["env"]) {
				if s := StringAt(e, "valueFrom", "secretKeyRef", "name"); s != "" {
					out[s] = true
				}
			}
			for _, e := range listOf(ctr["envFrom"]) {
				if s := StringAt(e, "secretRef", "name"); s != "" {
					out[s] = true
				}
			}
		}
	}
	for _, v := range listOf(spec["volumes"]) {
		if s := StringAt(v, "secret", "secretName"); s != "" {
			out[s] = true
		}
		for _, src := range listOf(At(v, "projected", "sources")) {
			if s := StringAt(src, "secret", "name"); s != "" {
				out[s] = true
			}
		}
	}
	return out
}
