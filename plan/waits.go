package plan

import (
	"fmt"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleWaits is the check that a release waits for no more than it needs.
const RuleWaits = "k8s/waits"

// checkWaits checks the other side of the CRD, webhook and scheduling
// checks: each release waits for another release only when that one serves
// a kind it creates or its roles grant (a controller that watches it), or
// runs a fail-closed webhook that intercepts its objects; for a node group or NodePool only when some pod of it fits
// there; for an ExternalSecret only when a pod of it reads the Secret. Any
// other wait between them makes the deploy longer and ties one release's
// failure to another's, for nothing.
func checkWaits(c *clusterView) []mocks.Violation {
	owned := map[string][]ClusterObject{}
	for _, o := range c.objects {
		owned[o.Owner] = append(owned[o.Owner], o)
	}
	sources := map[string]nodeSource{}
	for _, s := range c.nodeSources() {
		sources[s.urn] = s
	}
	var out []mocks.Violation
	for _, r := range c.p.Resources {
		if r.Type != ReleaseType {
			continue
		}
		for _, dep := range r.Dependencies {
			d, ok := c.owners[dep]
			if !ok {
				continue
			}
			var why string
			switch {
			case d.Type == ReleaseType:
				why = c.releaseNeed(owned[r.URN], d)
			case sources[dep].urn != "":
				why = nodeNeed(owned[r.URN], sources[dep])
			case d.Type == "kubernetes:external-secrets.io/v1:ExternalSecret":
				why = secretNeed(owned[r.URN], d)
			default:
				continue // AWS resources and the program's objects: the program's choice
			}
			if why != "" {
				out = append(out, mocks.Violation{URN: r.URN, Type: r.Type, Name: r.Name, Input: "dependsOn " + d.Name, Rule: RuleWaits,
					Message: fmt.Sprintf("waits for %s %s, but %s: the wait only lengthens the deploy and ties this release's install to that one", d.Type, d.Name, why)})
			}
		}
	}
	return out
}

// releaseNeed says why the objects do not need release d ("" when they do).
func (c *clusterView) releaseNeed(objs []ClusterObject, d Resource) string {
	crds := c.crdIndex()
	namespaces := c.namespaces()
	hooks := c.failClosedHooks()
	served := map[string]bool{} // "group/plural" of d's CRDs
	for _, cv := range crds {
		if cv.crd.Owner == d.URN {
			served[StringAt(cv.crd.Body, "spec", "group")+"/"+cv.plural] = true
		}
	}
	for _, o := range objs {
		if cv, ok := crds[o.APIVersion+" "+o.Kind]; ok && cv.crd.Owner == d.URN {
			return ""
		}
		if (o.Kind == "ClusterRole" || o.Kind == "Role") && grantsAny(o, served) {
			return "" // its controller watches kinds d serves, and fails to start without them
		}
		for _, h := range hooks {
			if h.config.Owner == d.URN && h.intercepts(o, crds, namespaces) {
				return ""
			}
		}
	}
	return "it serves none of its kinds and none of its webhooks intercepts its objects"
}

// nodeNeed says why no pod of objs needs the node source s.
func nodeNeed(objs []ClusterObject, s nodeSource) string {
	for _, o := range objs {
		if o.Kind != "Pod" || !o.Derived {
			continue
		}
		if spec, ok := PodSpec(o.Body, "Pod"); ok {
			if fits, _ := s.fits(spec); fits {
				return ""
			}
		}
	}
	return "none of its pods fits " + s.name
}

// secretNeed says why no pod of objs reads the Secret that d makes.
func secretNeed(objs []ClusterObject, d Resource) string {
	ns := StringAt(d.Inputs, "metadata", "namespace")
	secret := StringAt(d.Inputs, "spec", "target", "name")
	for _, o := range objs {
		if o.Kind != "Pod" || o.Namespace != ns {
			continue
		}
		if spec, ok := PodSpec(o.Body, "Pod"); ok && secretsRead(spec)[secret] {
			return ""
		}
	}
	return fmt.Sprintf("none of its pods reads Secret %s/%s", ns, secret)
}

// grantsAny reports whether an RBAC role grants access to one of the
// "group/plural" resources.
func grantsAny(role ClusterObject, resources map[string]bool) bool {
	for _, rule := range listOf(role.Body["rules"]) {
		for _, g := range Strings(rule["apiGroups"]) {
			for _, r := range Strings(rule["resources"]) {
				if resources[g+"/"+r] {
					return true
				}
			}
		}
	}
	return false
}
