package mocks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// pulumi-eks v2.8.1's eks:index:Cluster is a multi-language component: in a
// real run its children are created by its own Node.js code (nodejs/eks in
// the pulumi-eks repository at tag v2.8.1; compiled in the npm package
// @pulumi/eks@2.8.1, whose package/*.js lines are cited below). The Go SDK
// registers only the component. This file does what that Node.js code does
// for the arguments it is given: it registers the children, with the inputs
// pulumi-eks sends, under the component, runs the program's resource
// transforms on them as the engine does (pulumi/pulumi#15846), and answers
// with the component's outputs.
//
// Only the arguments the platform can pass are modelled; an argument that
// would change what pulumi-eks creates and is not modelled is refused, so
// the plan never shows less than a real run creates.

// eksArgsModelled are the eks:index:Cluster arguments this model handles.
var eksArgsModelled = map[string]bool{
	"name": true, "version": true, "vpcId": true, "subnetIds": true, "endpointPrivateAccess": true,
	"endpointPublicAccess": true, "publicAccessCidrs": true, "authenticationMode": true, "accessEntries": true,
	"encryptionConfigKeyArn": true, "enabledClusterLogTypes": true, "createOidcProvider": true,
	"useDefaultVpcCni": true, "skipDefaultNodeGroup": true, "tags": true, "clusterTags": true,
	"instanceRoles": true, "nodeSecurityGroupTags": true, "clusterSecurityGroupTags": true,
}

// eksBuilder registers the children of one eks:index:Cluster.
type eksBuilder struct {
	m          *Mocks
	owner      string // the component's URN
	name       string // the component's name
	in         resource.PropertyMap
	propDeps   map[string][]string
	transforms []pulumi.ResourceTransform
	protect    bool
	errs       []string
}

// eksClusterOutputs models eks:index:Cluster (see the file comment).
func (m *Mocks) eksClusterOutputs(args pulumi.MockResourceArgs, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	b := &eksBuilder{m: m, name: args.Name, in: in, propDeps: map[string][]string{}, transforms: args.Transforms}
	parent := ""
	if rpc := args.RegisterRPC; rpc != nil {
		parent = rpc.GetParent()
		b.protect = rpc.GetProtect()
		for k, v := range rpc.GetPropertyDependencies() {
			b.propDeps[k] = v.GetUrns()
		}
	}
	b.owner = m.urn(parent, args.TypeToken, args.Name)
	for k := range in {
		if !eksArgsModelled[string(k)] && !strings.HasPrefix(string(k), "__") {
			b.errs = append(b.errs, fmt.Sprintf("argument %q of eks:index:Cluster is not modelled by the mocks (internal/mocks/eks.go): model what pulumi-eks creates for it first", k))
		}
	}
	return b.build()
}

// child is one resource pulumi-eks registers.
type child struct {
	urn, id string
	out     resource.PropertyMap
}

// add registers a child of parent after running the program's transforms.
func (b *eksBuilder) add(parent, typ, name string, custom bool, inputs resource.PropertyMap, deps []string, ignoreChanges ...string) child {
	inputs, ignoreChanges = b.transform(typ, name, custom, inputs, ignoreChanges)
	var id string
	out, generated := resource.PropertyMap{}, ""
	if custom {
		id, out, generated = b.m.outputs(pulumi.MockResourceArgs{TypeToken: typ, Name: name, Inputs: inputs, Custom: true})
	}
	rec := Record{
		URN: b.m.urn(parent, typ, name), Type: typ, Name: name, Parent: parent, Custom: custom,
		Dependencies: sortedUnique(deps), Protect: b.protect, Inputs: inputs, Outputs: out, ID: id,
		NameGenerated: generated, IgnoreChanges: ignoreChanges, Remote: false,
	}
	b.m.mu.Lock()
	b.m.records = append(b.m.records, rec)
	b.m.mu.Unlock()
	return child{urn: rec.URN, id: id, out: out}
}

// transform runs the transforms of the component's options on a child, as
// the engine runs them on every resource a remote component registers.
func (b *eksBuilder) transform(typ, name string, custom bool, inputs resource.PropertyMap, ignore []string) (resource.PropertyMap, []string) {
	for _, t := range b.transforms {
		res := t(context.Background(), &pulumi.ResourceTransformArgs{
			Custom: custom, Type: typ, Name: name, Props: toInputMap(inputs), Opts: pulumi.ResourceOptions{IgnoreChanges: ignore},
		})
		if res == nil {
			continue
		}
		pm, err := fromInputMap(res.Props)
		if err != nil {
			b.errs = append(b.errs, fmt.Sprintf("transform of %s %q: %v", typ, name, err))
			continue
		}
		inputs, ignore = pm, res.Opts.IgnoreChanges
	}
	return inputs, ignore
}

// deps returns the URNs the component's inputs props were computed from.
func (b *eksBuilder) deps(props ...string) []string {
	var out []string
	for _, p := range props {
		out = append(out, b.propDeps[p]...)
	}
	return out
}

func (b *eksBuilder) str(key string) string { return stringAt(b.in, key) }

// truthy is JavaScript's truthiness of an argument, as pulumi-eks tests it.
func (b *eksBuilder) truthy(key string) bool {
	v, ok := b.in[resource.PropertyKey(key)]
	if !ok {
		return false
	}
	v = unwrap(v)
	switch {
	case v.IsNull():
		return false
	case v.IsBool():
		return v.BoolValue()
	case v.IsString():
		return v.StringValue() != ""
	case v.IsNumber():
		return v.NumberValue() != 0
	}
	return true // arrays and objects, even empty ones
}

func (b *eksBuilder) value(key string) resource.PropertyValue {
	if v, ok := b.in[resource.PropertyKey(key)]; ok {
		return v
	}
	return resource.NewNullProperty()
}

// tagsWith returns {extra..., ...the tags args} as pulumi-eks merges them
// (Object.assign: later keys win).
func (b *eksBuilder) tagsWith(first map[string]string, extraArg string) resource.PropertyValue {
	out := resource.PropertyMap{}
	for k, v := range first {
		out[resource.PropertyKey(k)] = resource.NewProperty(v)
	}
	for _, arg := range []string{extraArg, "tags"} {
		if v := unwrap(b.value(arg)); arg != "" && v.IsObject() {
			for k, e := range v.ObjectValue() {
				out[k] = e
			}
		}
	}
	return resource.NewProperty(out)
}

// serviceRole is pulumi-eks's ServiceRole component (servicerole.js:31-70):
// a role trusted by one service and its managed policy attachments, each
// named after the first 8 hex digits of the SHA-1 of the policy's ARN.
func (b *eksBuilder) serviceRole(name, service, description string, policies []string) (child, []string) {
	comp := b.add(b.owner, "eks:index:ServiceRole", name, false, resource.PropertyMap{}, nil)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":[%q]}}]}`, service)
	in := resource.PropertyMap{"assumeRolePolicy": resource.NewProperty(trust), "tags": b.tagsWith(nil, "")}
	if description != "" {
		in["description"] = resource.NewProperty(description)
	}
	role := b.add(comp.urn, "aws:iam/role:Role", name+"-role", true, in, nil)
	ready := []string{role.urn}
	for _, p := range policies {
		arn := "arn:aws:iam::aws:policy/" + p
		att := b.add(comp.urn, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name+"-"+sha1hex(arn)[:8], true, resource.PropertyMap{
			"policyArn": resource.NewProperty(arn), "role": resource.NewProperty(role.id),
		}, []string{role.urn})
		ready = append(ready, att.urn)
	}
	return role, ready
}

// build registers the children in the order of cluster.js createCore
// (cluster.js:202-690) and createCluster (cluster.js:844-911).
func (b *eksBuilder) build() (string, resource.PropertyMap, error) {
	c := &eksChildren{}
	b.controlPlane(c)
	b.nodeAccess(c)
	b.oidcProvider(c)
	b.nodeSecurityGroup(c)
	out := b.outputs(c)
	if len(b.errs) > 0 {
		return "", nil, fmt.Errorf("eks:index:Cluster %q: %s", b.name, strings.Join(b.errs, "; "))
	}
	return b.name, out, nil
}

// eksChildren are the children build registers, for the steps after them
// and the component's outputs.
type eksChildren struct {
	eksRole, clusterSG, cluster, k8s, nodeSG, ingress child
	clusterName                                       string
	kubeconfig                                        string
	instanceRoles, entries                            []resource.PropertyValue
	oidc                                              resource.PropertyValue
}

// controlPlane registers the EKS service role, the cluster security group,
// the cluster and the Kubernetes provider pulumi-eks deploys with.
func (b *eksBuilder) controlPlane(c *eksChildren) {
	n := b.name
	// cluster.js:273-290: the EKS service role, as no serviceRole is given.
	eksRole, eksRoleReady := b.serviceRole(n+"-eksRole", "eks.amazonaws.com", "Allows EKS to manage clusters on your behalf.", []string{"AmazonEKSClusterPolicy"})
	// cluster.js:291-310: the cluster security group and its egress to
	// everywhere, as no clusterSecurityGroup is given.
	clusterSG := b.add(b.owner, "aws:ec2/securityGroup:SecurityGroup", n+"-eksClusterSecurityGroup", true, resource.PropertyMap{
		"vpcId": b.value("vpcId"), "revokeRulesOnDelete": resource.NewProperty(true),
		"tags": b.tagsWith(map[string]string{"Name": n + "-eksClusterSecurityGroup"}, "clusterSecurityGroupTags"),
	}, b.deps("vpcId"))
	b.add(b.owner, "aws:ec2/securityGroupRule:SecurityGroupRule", n+"-eksClusterInternetEgressRule", true, resource.PropertyMap{
		"description": resource.NewProperty("Allow internet access."), "type": resource.NewProperty("egress"),
		"fromPort": resource.NewProperty(0.0), "toPort": resource.NewProperty(0.0), "protocol": resource.NewProperty("-1"),
		"cidrBlocks":      resource.NewProperty([]resource.PropertyValue{resource.NewProperty("0.0.0.0/0")}),
		"securityGroupId": resource.NewProperty(clusterSG.id),
	}, []string{clusterSG.urn})

	// cluster.js:335-367: the EKS cluster. accessConfig is hard-coded with
	// bootstrapClusterCreatorAdminPermissions true and ignoreChanges on it.
	vpcConfig := resource.PropertyMap{
		"securityGroupIds": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(clusterSG.id)}),
		"subnetIds":        b.value("subnetIds"),
	}
	for _, k := range []string{"endpointPrivateAccess", "endpointPublicAccess", "publicAccessCidrs"} {
		if v, ok := b.in[resource.PropertyKey(k)]; ok {
			vpcConfig[resource.PropertyKey(k)] = v
		}
	}
	clusterIn := resource.PropertyMap{
		"name":      b.value("name"),
		"roleArn":   eksRole.out["arn"],
		"vpcConfig": resource.NewProperty(vpcConfig),
		"version":   b.value("version"),
		"tags":      b.tagsWith(map[string]string{"Name": n + "-eksCluster"}, "clusterTags"),
	}
	if b.truthy("enabledClusterLogTypes") {
		clusterIn["enabledClusterLogTypes"] = b.value("enabledClusterLogTypes")
	}
	if b.truthy("encryptionConfigKeyArn") { // cluster.js:316-324
		clusterIn["encryptionConfig"] = resource.NewProperty(resource.PropertyMap{
			"provider":  resource.NewProperty(resource.PropertyMap{"keyArn": b.value("encryptionConfigKeyArn")}),
			"resources": resource.NewProperty([]resource.PropertyValue{resource.NewProperty("secrets")}),
		})
	}
	if b.truthy("authenticationMode") {
		clusterIn["accessConfig"] = resource.NewProperty(resource.PropertyMap{
			"authenticationMode":                      b.value("authenticationMode"),
			"bootstrapClusterCreatorAdminPermissions": resource.NewProperty(true),
		})
	}
	cluster := b.add(b.owner, "aws:eks/cluster:Cluster", n+"-eksCluster", true, clusterIn,
		append(append(eksRoleReady, clusterSG.urn), b.deps("subnetIds", "encryptionConfigKeyArn", "name", "version")...),
		"accessConfig.bootstrapClusterCreatorAdminPermissions")
	clusterName := stringAt(cluster.out, "name")
	kubeconfig := b.kubeconfig(cluster.out)
	// cluster.js:440-443: a Kubernetes provider for what pulumi-eks itself
	// deploys (the aws-auth ConfigMap, storage classes).
	k8s := b.add(b.owner, "pulumi:providers:kubernetes", n+"-eks-k8s", true, resource.PropertyMap{
		"kubeconfig": resource.NewProperty(kubeconfig),
	}, []string{cluster.urn})

	c.eksRole, c.clusterSG, c.cluster, c.k8s, c.clusterName, c.kubeconfig = eksRole, clusterSG, cluster, k8s, clusterName, kubeconfig
}

// nodeAccess registers the default instance role and its access entry
// (unless instanceRoles is given) and the accessEntries argument's.
func (b *eksBuilder) nodeAccess(c *eksChildren) {
	n, clusterName, cluster := b.name, c.clusterName, c.cluster
	// cluster.js:445-492: without instanceRole(s) an instance role trusted by
	// EC2, whatever skipDefaultNodeGroup says. instanceRoles: [] is truthy
	// and skips it (and, being empty, passes the API-mode check of
	// authenticationMode.js:23-54).
	if !b.truthy("instanceRoles") {
		role, ready := b.serviceRole(n+"-instanceRole", "ec2.amazonaws.com", "",
			[]string{"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"})
		c.instanceRoles = append(c.instanceRoles, b.ref(role, "aws:iam/role:Role", n+"-instanceRole-role"))
		// cluster.js:513-522: its EC2_LINUX access entry.
		e := b.add(b.owner, "aws:eks/accessEntry:AccessEntry", n+"-defaultNodeGroupInstanceRole", true, resource.PropertyMap{
			"clusterName": resource.NewProperty(clusterName), "principalArn": role.out["arn"], "type": resource.NewProperty("EC2_LINUX"),
		}, append(ready, cluster.urn))
		c.entries = append(c.entries, b.ref(e, "aws:eks/accessEntry:AccessEntry", n+"-defaultNodeGroupInstanceRole"))
	} else if v := unwrap(b.value("instanceRoles")); v.IsArray() && len(v.ArrayValue()) > 0 && b.str("authenticationMode") == "API" {
		b.errs = append(b.errs, "pulumi-eks refuses instanceRoles with authenticationMode API: \"The 'instanceRoles' property does not support non-empty values when 'authenticationMode' is set to 'API'.\" (authenticationMode.js:23-54)")
	}
	// cluster.js:523-527, authenticationMode.js:145-159: the accessEntries
	// argument, one entry each and one association per access policy.
	c.entries = append(c.entries, b.accessEntries(clusterName, cluster.urn)...)

}

// oidcProvider registers the cluster's IAM OIDC provider when asked for.
func (b *eksBuilder) oidcProvider(c *eksChildren) {
	n, cluster := b.name, c.cluster
	// cluster.js:651-665: the OIDC provider. The thumbprint is fetched over
	// HTTPS from https://oidc.eks.<region>.amazonaws.com at every preview
	// and up (cert-thumprint.js); here it is a stand-in.
	c.oidc = resource.NewNullProperty()
	if b.truthy("createOidcProvider") {
		issuer := unwrap(cluster.out["identities"]).ArrayValue()[0].ObjectValue()["oidcs"].ArrayValue()[0].ObjectValue()["issuer"]
		o := b.add(b.owner, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", n+"-oidcProvider", true, resource.PropertyMap{
			"clientIdLists":   resource.NewProperty([]resource.PropertyValue{resource.NewProperty("sts.amazonaws.com")}),
			"url":             issuer,
			"thumbprintLists": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(hash("oidc-ca::" + b.m.Region)[:40])}),
		}, []string{cluster.urn})
		c.oidc = b.ref(o, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", n+"-oidcProvider")
	}

}

// nodeSecurityGroup registers the node security group, its rules and the
// second Kubernetes provider.
func (b *eksBuilder) nodeSecurityGroup(c *eksChildren) {
	n, clusterName, cluster, clusterSG, kubeconfig := b.name, c.clusterName, c.cluster, c.clusterSG, c.kubeconfig
	// cluster.js:866-873, securitygroup.js:44-98: the node security group and
	// its rules, created whatever else the arguments say.
	nodeSG := b.add(b.owner, "aws:ec2/securityGroup:SecurityGroup", n+"-nodeSecurityGroup", true, resource.PropertyMap{
		"vpcId": b.value("vpcId"), "revokeRulesOnDelete": resource.NewProperty(true),
		"tags": b.tagsWith(map[string]string{"Name": n + "-nodeSecurityGroup", "kubernetes.io/cluster/" + clusterName: "owned"}, "nodeSecurityGroupTags"),
	}, append(b.deps("vpcId"), cluster.urn))
	rule := func(suffix, desc, typ string, from, to float64, proto, sg string, src map[string]resource.PropertyValue, deps ...string) child {
		in := resource.PropertyMap{
			"description": resource.NewProperty(desc), "type": resource.NewProperty(typ), "fromPort": resource.NewProperty(from),
			"toPort": resource.NewProperty(to), "protocol": resource.NewProperty(proto), "securityGroupId": resource.NewProperty(sg),
		}
		for k, v := range src {
			in[resource.PropertyKey(k)] = v
		}
		return b.add(b.owner, "aws:ec2/securityGroupRule:SecurityGroupRule", n+suffix, true, in, deps)
	}
	fromCluster := map[string]resource.PropertyValue{"sourceSecurityGroupId": resource.NewProperty(clusterSG.id)}
	rule("-eksNodeIngressRule", "Allow nodes to communicate with each other", "ingress", 0, 0, "-1", nodeSG.id,
		map[string]resource.PropertyValue{"self": resource.NewProperty(true)}, nodeSG.urn)
	rule("-eksNodeClusterIngressRule", "Allow worker Kubelets and pods to receive communication from the cluster control plane", "ingress", 1025, 65535, "tcp", nodeSG.id,
		fromCluster, nodeSG.urn, clusterSG.urn)
	rule("-eksExtApiServerClusterIngressRule", "Allow pods running extension API servers on port 443 to receive communication from cluster control plane", "ingress", 443, 443, "tcp", nodeSG.id,
		fromCluster, nodeSG.urn, clusterSG.urn)
	rule("-eksNodeInternetEgressRule", "Allow internet access.", "egress", 0, 0, "-1", nodeSG.id,
		map[string]resource.PropertyValue{"cidrBlocks": resource.NewProperty([]resource.PropertyValue{resource.NewProperty("0.0.0.0/0")})}, nodeSG.urn)
	ingress := rule("-eksClusterIngressRule", "Allow pods to communicate with the cluster API Server", "ingress", 443, 443, "tcp", clusterSG.id,
		map[string]resource.PropertyValue{"sourceSecurityGroupId": resource.NewProperty(nodeSG.id)}, nodeSG.urn, clusterSG.urn)
	// cluster.js:886-892: a second Kubernetes provider, not returned.
	b.add(b.owner, "pulumi:providers:kubernetes", n+"-provider", true, resource.PropertyMap{
		"kubeconfig": resource.NewProperty(kubeconfig),
	}, []string{cluster.urn})

	c.nodeSG, c.ingress = nodeSG, ingress
}

// outputs are the component's outputs (cmd/provider/cluster.js:22-34 and
// cluster.js:666-689).
func (b *eksBuilder) outputs(c *eksChildren) resource.PropertyMap {
	n, cluster, clusterSG, nodeSG, ingress, eksRole, k8s, kubeconfig := b.name, c.cluster, c.clusterSG, c.nodeSG, c.ingress, c.eksRole, c.k8s, c.kubeconfig
	instanceRoles, entries, oidc := c.instanceRoles, c.entries, c.oidc
	eksCluster := b.ref(cluster, "aws:eks/cluster:Cluster", n+"-eksCluster")
	out := b.in.Copy()
	out["eksCluster"] = eksCluster
	out["clusterSecurityGroup"] = b.ref(clusterSG, "aws:ec2/securityGroup:SecurityGroup", n+"-eksClusterSecurityGroup")
	out["nodeSecurityGroup"] = b.ref(nodeSG, "aws:ec2/securityGroup:SecurityGroup", n+"-nodeSecurityGroup")
	out["eksClusterIngressRule"] = b.ref(ingress, "aws:ec2/securityGroupRule:SecurityGroupRule", n+"-eksClusterIngressRule")
	out["instanceRoles"] = resource.NewProperty(instanceRoles)
	out["core"] = resource.NewProperty(resource.PropertyMap{
		"cluster":              eksCluster,
		"clusterSecurityGroup": out["clusterSecurityGroup"],
		"clusterIamRole":       b.ref(eksRole, "aws:iam/role:Role", n+"-eksRole-role"),
		"oidcProvider":         oidc,
		"provider":             b.ref(k8s, "pulumi:providers:kubernetes", n+"-eks-k8s"),
		"endpoint":             cluster.out["endpoint"],
		"vpcId":                b.value("vpcId"),
		"subnetIds":            b.value("subnetIds"),
		"tags":                 b.value("tags"),
		"kubeconfig":           resource.NewProperty(kubeconfig),
		"instanceRoles":        resource.NewProperty(instanceRoles),
		"encryptionConfig":     cluster.out["encryptionConfig"],
		// pulumi-eks 2.8.1 returns the AWS AccessEntry resources here, where
		// its schema (and so the Go SDK) expects eks:index:AccessEntry
		// objects: the Go SDK fails to read core when there are any
		// (pulumi-eks#1435, fixed by #1481 after 2.8.1).
		"accessEntries": resource.NewProperty(entries),
		"nodeGroupOptions": resource.NewProperty(resource.PropertyMap{
			"version":            b.value("version"),
			"nodeSecurityGroup":  out["nodeSecurityGroup"],
			"clusterIngressRule": out["eksClusterIngressRule"],
		}),
		"storageClasses": resource.NewProperty(resource.PropertyMap{}),
	})
	out["kubeconfig"] = resource.NewProperty(kubeconfig)
	out["kubeconfigJson"] = resource.MakeSecret(resource.NewProperty(kubeconfig))
	return out
}

// accessEntries registers the accessEntries argument's entries.
func (b *eksBuilder) accessEntries(clusterName, clusterURN string) []resource.PropertyValue {
	v := unwrap(b.value("accessEntries"))
	if !v.IsObject() {
		return nil
	}
	keys := v.ObjectValue().StableKeys()
	var refs []resource.PropertyValue
	for _, key := range keys {
		spec := unwrap(v.ObjectValue()[key]).ObjectValue()
		in := resource.PropertyMap{"clusterName": resource.NewProperty(clusterName)}
		for _, k := range []resource.PropertyKey{"principalArn", "kubernetesGroups", "type", "tags"} {
			if e, ok := spec[k]; ok {
				in[k] = e
			}
		}
		if u, ok := spec["username"]; ok {
			in["userName"] = u
		}
		name := b.name + "-" + string(key)
		e := b.add(b.owner, "aws:eks/accessEntry:AccessEntry", name, true, in, []string{clusterURN})
		refs = append(refs, b.ref(e, "aws:eks/accessEntry:AccessEntry", name))
		if pol := unwrap(spec["accessPolicies"]); pol.IsObject() {
			for _, pk := range pol.ObjectValue().StableKeys() {
				p := unwrap(pol.ObjectValue()[pk]).ObjectValue()
				b.add(e.urn, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", name+"-"+string(pk), true, resource.PropertyMap{
					"accessScope": p["accessScope"], "principalArn": spec["principalArn"], "policyArn": p["policyArn"],
					"clusterName": resource.NewProperty(clusterName),
				}, []string{e.urn, clusterURN})
			}
		}
	}
	return refs
}

// kubeconfig is pulumi-eks's generated kubeconfig (cluster.js:58-110), in
// its key order, authenticating with `aws eks get-token`.
func (b *eksBuilder) kubeconfig(cluster resource.PropertyMap) string {
	type exec struct {
		APIVersion string              `json:"apiVersion"`
		Command    string              `json:"command"`
		Args       []string            `json:"args"`
		Env        []map[string]string `json:"env"`
	}
	ca := ""
	if c := unwrap(cluster["certificateAuthority"]); c.IsObject() {
		ca = stringAt(c.ObjectValue(), "data")
	}
	doc := struct {
		APIVersion     string `json:"apiVersion"`
		Clusters       []any  `json:"clusters"`
		Contexts       []any  `json:"contexts"`
		CurrentContext string `json:"current-context"`
		Kind           string `json:"kind"`
		Users          []any  `json:"users"`
	}{
		APIVersion:     "v1",
		Clusters:       []any{map[string]any{"cluster": map[string]any{"server": stringAt(cluster, "endpoint"), "certificate-authority-data": ca}, "name": "kubernetes"}},
		Contexts:       []any{map[string]any{"context": map[string]any{"cluster": "kubernetes", "user": "aws"}, "name": "aws"}},
		CurrentContext: "aws",
		Kind:           "Config",
		Users: []any{map[string]any{"name": "aws", "user": map[string]any{"exec": exec{
			APIVersion: "client.authentication.k8s.io/v1beta1", Command: "aws",
			Args: []string{"eks", "get-token", "--cluster-name", stringAt(cluster, "name"), "--output", "json"},
			Env:  []map[string]string{{"name": "KUBERNETES_EXEC_INFO", "value": `{"apiVersion": "client.authentication.k8s.io/v1beta1"}`}},
		}}}},
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

// ref returns a resource reference to a child, and maps the registration the
// SDK makes for it back to the child.
func (b *eksBuilder) ref(c child, typ, name string) resource.PropertyValue {
	return b.m.reference(c.urn, typ, name, c.id, c.out)
}

// eksClusterState is what the mocked AWS returns for an EKS cluster.
func (m *Mocks) eksClusterState(out resource.PropertyMap, name string) {
	h := hash("eks::" + name)
	issuer := fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", m.Region, strings.ToUpper(h[:32]))
	out["endpoint"] = resource.NewProperty(fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", strings.ToUpper(h[32:64]), m.Region))
	out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", m.Region, m.Account, name))
	out["status"] = resource.NewProperty("ACTIVE")
	out["certificateAuthority"] = resource.NewProperty(resource.PropertyMap{"data": resource.NewProperty(
		base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n")))})
	out["identities"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
		"oidcs": resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{"issuer": resource.NewProperty(issuer)})}),
	})})
	vpc := resource.PropertyMap{}
	if v := unwrap(out["vpcConfig"]); v.IsObject() {
		vpc = v.ObjectValue().Copy()
	}
	// EKS creates its own cluster security group (eks-cluster-sg-<name>-*)
	// and attaches it to the control plane and to managed node groups that
	// name no security group of their own.
	vpc["clusterSecurityGroupId"] = resource.NewProperty("sg-0" + hash(h + "clustersg")[:16])
	out["vpcConfig"] = resource.NewProperty(vpc)
	out["platformVersion"] = resource.NewProperty("eks.1")
}
