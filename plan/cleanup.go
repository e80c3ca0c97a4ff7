package plan

import (
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleCleanup is the check that what Kubernetes objects make in AWS is
// removed before `pulumi destroy` removes the controller that made it.
const RuleCleanup = "k8s/cleanup"

// provisioners maps a CSI provisioner to the EKS add-on that runs it.
var provisioners = map[string]string{
	"ebs.csi.aws.com": "aws-ebs-csi-driver",
	"efs.csi.aws.com": "aws-efs-csi-driver",
}

// checkCleanup checks, for every object that makes AWS resources through a
// controller, that its owner waits for the controller (so `pulumi destroy`
// deletes the object first, while the controller still runs to remove what
// it made) and that nothing such an object makes outlives its owner:
//   - an Ingress of class alb: its load balancer, target groups and
//     security groups, removed by the AWS Load Balancer Controller;
//   - a PersistentVolumeClaim: its EBS or EFS volume, removed by the CSI
//     driver of its StorageClass;
//   - a StatefulSet's volumeClaimTemplates: claims Helm does not delete at
//     uninstall, so their volumes stay unless the StatefulSet deletes them;
//   - a Service of type LoadBalancer: a load balancer nothing here removes.
func checkCleanup(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	var lbController string
	classes := map[string]string{} // StorageClass name -> provisioner
	for _, o := range c.objects {
		if o.Kind == "IngressClass" && StringAt(o.Body, "spec", "controller") == "ingress.k8s.aws/alb" {
			lbController = o.Owner
		}
		if o.Kind == "StorageClass" {
			p, _ := o.Body["provisioner"].(string)
			classes[o.Name] = p
			if o.Annotations()["storageclass.kubernetes.io/is-default-class"] == "true" {
				classes[""] = p
			}
		}
	}
	addons := map[string]string{} // add-on name -> URN
	for _, r := range c.p.Resources {
		if r.Type == "aws:eks/addon:Addon" {
			addons[StringAt(r.Inputs, "addonName")] = r.URN
		}
	}
	for _, o := range c.objects {
		switch o.Kind {
		case "Ingress":
			class := StringAt(o.Body, "spec", "ingressClassName")
			if class == "" {
				class = o.Annotations()["kubernetes.io/ingress.class"]
			}
			if class != "alb" {
				continue
			}
			switch {
			case lbController == "":
				// A controller the plan does not install (a cluster the
				// program does not manage): its lifecycle is not ours.
			case !c.waitsFor(o.Owner, lbController):
				out = append(out, c.violation(o, RuleCleanup, "makes a load balancer, but %s does not wait for %s: `pulumi destroy` could remove the controller first and leave the load balancer behind", c.owners[o.Owner].Name, c.owners[lbController].Name))
			case !c.awaitsDeletion(o.Owner):
				out = append(out, c.violation(o, RuleCleanup, "makes a load balancer, but %s does not wait for its deletion (skipAwait): the controller can be removed before it is done", c.owners[o.Owner].Name))
			}
		case "PersistentVolumeClaim":
			class, _ := At(o.Body, "spec", "storageClassName").(string)
			out = append(out, c.volumeCleanup(o, o.Owner, class, classes, addons)...)
		case "StatefulSet":
			templates, _ := At(o.Body, "spec", "volumeClaimTemplates").([]any)
			if len(templates) > 0 && StringAt(o.Body, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") != "Delete" {
				out = append(out, c.violation(o, RuleCleanup, "has volumeClaimTemplates, and Helm does not delete their claims: their volumes outlive the release and `pulumi destroy` (set persistentVolumeClaimRetentionPolicy.whenDeleted: Delete, or no volume)"))
			}
		case "Service":
			if StringAt(o.Body, "spec", "type") == "LoadBalancer" {
				out = append(out, c.violation(o, RuleCleanup, "is of type LoadBalancer: it makes a load balancer that no controller of the plan removes before the cluster goes"))
			}
		}
	}
	return out
}

// volumeCleanup checks a claim's owner waits for the CSI driver that
// provisions (and deletes) its volume.
func (c *clusterView) volumeCleanup(o ClusterObject, owner, class string, classes, addons map[string]string) []mocks.Violation {
	prov, ok := classes[class]
	if !ok {
		return []mocks.Violation{c.violation(o, RuleCleanup, "uses StorageClass %q, which the plan does not create", class)}
	}
	addon, ok := addons[provisioners[prov]]
	if !ok {
		return []mocks.Violation{c.violation(o, RuleCleanup, "is provisioned by %s, whose EKS add-on the plan does not install", prov)}
	}
	if !c.waitsFor(owner, addon) {
		return []mocks.Violation{c.violation(o, RuleCleanup, "makes a volume through %s, but %s does not wait for that add-on: `pulumi destroy` could remove the driver first and leave the volume behind", prov, c.owners[owner].Name)}
	}
	return nil
}

// awaitsDeletion reports whether Pulumi waits until what a resource made
// in the cluster is gone when it deletes it: a Helm release unless
// skipAwait, a Kubernetes resource unless annotated pulumi.com/skipAwait.
func (c *clusterView) awaitsDeletion(urn string) bool {
	r := c.owners[urn]
	if r.Type == ReleaseType {
		skip, _ := r.Inputs["skipAwait"].(bool)
		return !skip
	}
	return StringAt(r.Inputs, "metadata", "annotations", "pulumi.com/skipAwait") != "true"
}
