package mocks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ec2IDPrefixes are the prefixes of EC2 resource IDs, as AWS prints them.
var ec2IDPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "vpc",
	"aws:ec2/subnet:Subnet":                                     "subnet",
	"aws:ec2/internetGateway:InternetGateway":                   "igw",
	"aws:ec2/eip:Eip":                                           "eipalloc",
	"aws:ec2/natGateway:NatGateway":                             "nat",
	"aws:ec2/routeTable:RouteTable":                             "rtb",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       "rtbassoc",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "vpce",
	"aws:ec2/securityGroup:SecurityGroup":                       "sg",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":         "sg",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "sgr",
	"aws:ec2/flowLog:FlowLog":                                   "fl",
	"aws:ec2/launchTemplate:LaunchTemplate":                     "lt",
	"aws:ec2/instance:Instance":                                 "i",
}

// ec2ARNKinds are the resource kinds in EC2 ARNs ("arn:aws:ec2:REGION:ACCOUNT:KIND/ID").
var ec2ARNKinds = map[string]string{
	"vpc": "vpc", "subnet": "subnet", "igw": "internet-gateway", "eipalloc": "elastic-ip",
	"nat": "natgateway", "rtb": "route-table", "vpce": "vpc-endpoint", "sg": "security-group",
	"sgr": "security-group-rule", "fl": "vpc-flow-log", "lt": "launch-template", "i": "instance",
}

// outputs returns the ID and output properties AWS (or Kubernetes) would
// return for a new resource: its inputs plus what the service computes.
// The third result says how the physical name was generated, if it was.
func (m *Mocks) outputs(args pulumi.MockResourceArgs) (string, resource.PropertyMap, string) {
	if id, out, ok := m.keptRandom(args); ok {
		return id, out, ""
	}
	h := hash(args.TypeToken + "::" + args.Name)
	get := func(k string) string { return stringAt(args.Inputs, k) }
	// Generated names are random at each creation: the seed stands for it.
	physical, generated := physicalName(args.TypeToken, args.Name, get, hash(h+m.Seed))
	if physical != "" {
		in := args.Inputs.Copy()
		if in == nil {
			in = resource.PropertyMap{}
		}
		in[resource.PropertyKey(nameRules[args.TypeToken].prop)] = resource.NewProperty(physical)
		args.Inputs = in
	}
	id, out := m.outputsOf(args, physical)
	return id, out, generated
}

// outputsOf computes the outputs of args, whose inputs hold the physical
// name already.
func (m *Mocks) outputsOf(args pulumi.MockResourceArgs, physical string) (string, resource.PropertyMap) {
	out := args.Inputs.Copy()
	if out == nil {
		out = resource.PropertyMap{}
	}
	h := hash(args.TypeToken + "::" + args.Name)
	region, acct := m.Region, m.Account
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewProperty(v) }
	if prefix, ok := ec2IDPrefixes[args.TypeToken]; ok {
		id := prefix + "-0" + h[:16]
		set("arn", fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", region, acct, ec2ARNKinds[prefix], id))
		set("ownerId", acct)
		switch args.TypeToken {
		case "aws:ec2/vpc:Vpc":
			set("defaultSecurityGroupId", "sg-0"+hash(h + "sg")[:16])
			set("mainRouteTableId", "rtb-0"+hash(h + "rtb")[:16])
			set("defaultNetworkAclId", "acl-0"+hash(h + "acl")[:16])
		case "aws:ec2/eip:Eip":
			set("allocationId", id)
			set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[0])%250))
		case "aws:ec2/natGateway:NatGateway":
			set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[1])%250))
		case "aws:ec2/instance:Instance":
			set("primaryNetworkInterfaceId", "eni-0"+hash(h + "eni")[:16])
			set("privateIp", fmt.Sprintf("10.0.%d.%d", int(h[2])%250, 4+int(h[3])%250))
			if b, ok := out["associatePublicIpAddress"]; ok && unwrap(b).IsBool() && unwrap(b).BoolValue() {
				set("publicIp", fmt.Sprintf("198.51.100.%d", 1+int(h[4])%250))
			}
		case "aws:ec2/launchTemplate:LaunchTemplate":
			out["latestVersion"] = resource.NewProperty(1.0)
			out["defaultVersion"] = resource.NewProperty(1.0)
		case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
			set("securityGroupRuleId", id)
		}
		return id, out
	}

	if rule, ok := outputRules[args.TypeToken]; ok {
		o := &outputCtx{m: m, args: args, physical: physical, h: h, region: region, acct: acct, out: out}
		return rule(o), out
	}
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		return args.Name + "-" + uuid(h), out
	}
	if strings.HasPrefix(args.TypeToken, "kubernetes:") {
		return m.kubernetesOutputs(args, out)
	}
	return args.Name + "-" + h[:12], out
}

// outputCtx is what an output rule reads and writes.
type outputCtx struct {
	m                         *Mocks
	args                      pulumi.MockResourceArgs
	physical, h, region, acct string
	out                       resource.PropertyMap
}

func (o *outputCtx) set(k, v string) { o.out[resource.PropertyKey(k)] = resource.NewProperty(v) }

func (o *outputCtx) get(k string) string {
	v, ok := o.out[resource.PropertyKey(k)]
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// kubernetesOutputs fills what the API server returns: the metadata of the
// object, and for a Helm release its status.
func (m *Mocks) kubernetesOutputs(args pulumi.MockResourceArgs, out resource.PropertyMap) (string, resource.PropertyMap) {
	if args.TypeToken == "kubernetes:helm.sh/v3:Release" {
		name := args.Name
		if v, ok := out["name"]; ok && v.IsString() && v.StringValue() != "" {
			name = v.StringValue()
		}
		ns := "default"
		if v, ok := out["namespace"]; ok && v.IsString() && v.StringValue() != "" {
			ns = v.StringValue()
		}
		out["status"] = resource.NewProperty(resource.PropertyMap{
			"name":      resource.NewProperty(name),
			"namespace": resource.NewProperty(ns),
			"status":    resource.NewProperty("deployed"),
			"revision":  resource.NewProperty(1.0),
		})
		return ns + "/" + name, out
	}
	meta := resource.PropertyMap{}
	if v, ok := out["metadata"]; ok && v.IsObject() {
		meta = v.ObjectValue().Copy()
	}
	name := args.Name
	if v, ok := meta["name"]; ok && v.IsString() && v.StringValue() != "" {
		name = v.StringValue()
	} else {
		name = args.Name + "-" + hash(args.TypeToken + args.Name)[:8]
		meta["name"] = resource.NewProperty(name)
	}
	meta["uid"] = resource.NewProperty(uuid(hash(args.TypeToken + "::" + args.Name)))
	out["metadata"] = resource.NewProperty(meta)
	if ns, ok := meta["namespace"]; ok && ns.IsString() {
		return ns.StringValue() + "/" + name, out
	}
	return name, out
}

// uuid formats the start of a hex digest like a UUID.
func uuid(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// suffix6 is the six random characters Secrets Manager appends to a secret's ARN.
func suffix6(h string) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[int(h[i])%len(letters)]
	}
	return string(b)
}

// fakeSecret is a stable stand-in for a generated password.
func fakeSecret(h string, n int) string {
	s := hash(h + "secret")
	for len(s) < n {
		s += hash(s)
	}
	return s[:n]
}

// keptRandom answers for a resource of the random provider that the
// previous run's State holds with the same inputs: Pulumi keeps its result.
func (m *Mocks) keptRandom(args pulumi.MockResourceArgs) (string, resource.PropertyMap, bool) {
	if !strings.HasPrefix(args.TypeToken, "random:") {
		return "", nil, false
	}
	prev, ok := m.State[args.TypeToken+"/"+args.Name]
	if !ok || !prev.Inputs.DeepEquals(args.Inputs) {
		return "", nil, false
	}
	return prev.ID, prev.Outputs.Copy(), true
}

// replaced returns what makes a random resource's new result differ from
// the one it replaces: every input of the random provider forces a
// replacement, and a replacement generates anew, even with inputs seen
// before (keepers that go back to an earlier value).
func (m *Mocks) replaced(args pulumi.MockResourceArgs) string {
	if prev, ok := m.State[args.TypeToken+"/"+args.Name]; ok {
		return fmt.Sprintf("replaces %s %v", prev.ID, prev.Outputs.Mappable())
	}
	return ""
}
