package tests

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/stackconfig"
)

func TestNetworkDiffersBetweenDevAndProdOnlyAsConfigured(t *testing.T) {
	cases := []struct {
		stack                            string
		zones, nats, natInstances, iface int
	}{
		{"dev", 2, 0, 1, 0},
		{"prod", 3, 3, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			p := stackPlan(t, c.stack)
			n := p.Count()
			assert.Equal(t, 1, n["aws:ec2/vpc:Vpc"])
			assert.Equal(t, 4*c.zones, n["aws:ec2/subnet:Subnet"])
			assert.Equal(t, c.nats, n["aws:ec2/natGateway:NatGateway"])
			assert.Equal(t, c.nats, n["aws:ec2/eip:Eip"])
			assert.Equal(t, c.natInstances, n["aws:ec2/instance:Instance"])
			assert.Equal(t, 1+c.iface, n["aws:ec2/vpcEndpoint:VpcEndpoint"], "S3 gateway plus the interface endpoints")
			assert.Equal(t, 1, n["aws:ec2/flowLog:FlowLog"])
			assert.Equal(t, 1, n["aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"])
			zones := map[string]int{}
			for _, s := range p.Find("aws:ec2/subnet:Subnet") {
				zones[str(s.Inputs, "availabilityZone")]++
			}
			assert.Len(t, zones, c.zones)
			for z, k := range zones {
				assert.Equal(t, 4, k, "zone %s should hold a public, a private, a database and an ingress subnet", z)
			}
		})
	}
}

func TestSubnetsAreDisjointInsideTheVpcAndTaggedForDiscovery(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			p := stackPlan(t, stack)
			vpc := netip.MustParsePrefix(str(p.Find("aws:ec2/vpc:Vpc")[0].Inputs, "cidrBlock"))
			name := p.Outputs["name"].(string)
			var blocks []netip.Prefix
			for _, s := range p.Find("aws:ec2/subnet:Subnet") {
				b := netip.MustParsePrefix(str(s.Inputs, "cidrBlock"))
				assert.True(t, vpc.Contains(b.Addr()), "%s outside %s", b, vpc)
				for _, o := range blocks {
					assert.False(t, o.Overlaps(b), "%s overlaps %s", o, b)
				}
				blocks = append(blocks, b)
				assert.Equal(t, false, s.Inputs["mapPublicIpOnLaunch"], "%s must not hand out public IPs", s.Name)
				tier := str(s.Inputs, "tags", "tier")
				switch tier {
				case "public":
					assert.Equal(t, "1", str(s.Inputs, "tags", "kubernetes.io/role/elb"), s.Name)
					assert.Empty(t, str(s.Inputs, "tags", "karpenter.sh/discovery"), "Karpenter must not launch nodes into public subnets")
				case "private":
					assert.Empty(t, str(s.Inputs, "tags", "kubernetes.io/role/internal-elb"), "%s: internal load balancers go to the ingress subnets, apart from the pods", s.Name)
					assert.Equal(t, name, str(s.Inputs, "tags", "karpenter.sh/discovery"), s.Name)
				case "ingress":
					assert.Equal(t, "1", str(s.Inputs, "tags", "kubernetes.io/role/internal-elb"), s.Name)
					assert.Empty(t, str(s.Inputs, "tags", "karpenter.sh/discovery"), "Karpenter must not launch nodes into the ingress subnets")
					bits := b.Bits()
					assert.LessOrEqual(t, bits, 27, "%s: a load balancer's subnet is a /27 or larger", s.Name)
				case "database":
					assert.Empty(t, str(s.Inputs, "tags", "karpenter.sh/discovery"))
				default:
					t.Errorf("subnet %s has no tier tag", s.Name)
				}
			}
		})
	}
}

func TestOnlyPublicAndPrivateSubnetsRouteOutOfTheVpc(t *testing.T) {
	p := stackPlan(t, "prod")
	byURN := map[string]plan.Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	// Each private route table's default route goes to the NAT gateway of its own zone.
	for _, r := range p.Find("aws:ec2/route:Route") {
		assert.Equal(t, "0.0.0.0/0", str(r.Inputs, "destinationCidrBlock"))
		switch {
		case strings.HasSuffix(r.Name, "-public-default"):
			assert.True(t, strings.HasPrefix(str(r.Inputs, "gatewayId"), "igw-"), r.Name)
		default:
			nat := str(r.Inputs, "natGatewayId")
			require.True(t, strings.HasPrefix(nat, "nat-"), "%s routes to %q", r.Name, nat)
			zone := strings.TrimSuffix(strings.TrimPrefix(r.Name, "network-private-"), "-default")
			natRes := findByID(t, p, "aws:ec2/natGateway:NatGateway", nat)
			assert.Equal(t, "network-nat-"+zone, natRes.Name, "zone %s must use its own NAT gateway", zone)
		}
	}
	// No route leaves the database subnets.
	for _, r := range p.Find("aws:ec2/route:Route") {
		assert.NotContains(t, r.Name, "database")
	}
}

func TestSingleNatSharesOneNatGateway(t *testing.T) {
	opts := stackOptions(t, "dev")
	setNetwork("natStrategy", "Single")(t, opts)
	setNetwork("natInstanceType", nil)(t, opts)
	p, err := plan.Run(opts)
	require.NoError(t, err)
	nats := p.Find("aws:ec2/natGateway:NatGateway")
	require.Len(t, nats, 1)
	assert.Empty(t, p.Find("aws:ec2/instance:Instance"))
	routes := 0
	for _, r := range p.Find("aws:ec2/route:Route") {
		if nat := str(r.Inputs, "natGatewayId"); nat != "" {
			routes++
			assert.Equal(t, nats[0].Name, findByID(t, p, "aws:ec2/natGateway:NatGateway", nat).Name)
		}
	}
	assert.Equal(t, 2, routes, "both private route tables use the one NAT gateway")
}

// natInstanceProblems lists what would keep the NAT instance (whose inputs
// are in) from forwarding the private subnets' traffic, or expose it: AWS's
// VPC guide ("NAT instances") needs source/destination checks off, a public
// address in a public subnet, and forwarding plus masquerading in the OS.
func natInstanceProblems(t *testing.T, p *plan.Plan, in map[string]any) []string {
	var out []string
	if in["sourceDestCheck"] != false {
		out = append(out, "source/destination check is on: EC2 drops forwarded packets")
	}
	if in["associatePublicIpAddress"] != true {
		out = append(out, "no public address at launch")
	}
	if subnet := findByID(t, p, "aws:ec2/subnet:Subnet", str(in, "subnetId")); !strings.Contains(subnet.Name, "-public-") {
		out = append(out, "runs in "+subnet.Name+", not a public subnet")
	}
	vpc := str(p.Find("aws:ec2/vpc:Vpc")[0].Inputs, "cidrBlock")
	for _, want := range []string{"net.ipv4.ip_forward=1", "-s " + vpc + " -j MASQUERADE", "iptables -F FORWARD", "service iptables save"} {
		if !strings.Contains(str(in, "userData"), want) {
			out = append(out, "user data lacks "+want)
		}
	}
	if str(in, "metadataOptions", "httpTokens") != "required" {
		out = append(out, "IMDSv1 allowed")
	}
	if at(in, "rootBlockDevice", "encrypted") != true {
		out = append(out, "root volume not encrypted")
	}
	// Every private route goes to the instance's network interface.
	var eni string
	for _, r := range p.Records() {
		if r.Type == "aws:ec2/instance:Instance" {
			eni = r.Outputs["primaryNetworkInterfaceId"].StringValue()
		}
	}
	for _, r := range p.Find("aws:ec2/route:Route") {
		if got := str(r.Inputs, "networkInterfaceId"); !strings.HasSuffix(r.Name, "-public-default") && got != eni {
			out = append(out, fmt.Sprintf("%s routes to %q, not the NAT instance's interface", r.Name, got))
		}
	}
	// Its security group admits the private subnets only.
	var private []string
	for _, s := range p.Find("aws:ec2/subnet:Subnet") {
		if strings.Contains(s.Name, "-private-") {
			private = append(private, str(s.Inputs, "cidrBlock"))
		}
	}
	for _, r := range p.Find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if strings.HasPrefix(r.Name, "network-nat-instance") && !slices.Contains(private, str(r.Inputs, "cidrIpv4")) {
			out = append(out, fmt.Sprintf("%s admits %s, not a private subnet", r.Name, str(r.Inputs, "cidrIpv4")))
		}
	}
	return out
}

func TestDevRoutesEveryZoneThroughOneNatInstance(t *testing.T) {
	p := stackPlan(t, "dev")
	insts := p.Find("aws:ec2/instance:Instance")
	require.Len(t, insts, 1)
	assert.Empty(t, natInstanceProblems(t, p, insts[0].Inputs))
	assert.Empty(t, p.Find("aws:ec2/natGateway:NatGateway"))
	assert.Equal(t, "t4g.nano", str(insts[0].Inputs, "instanceType"))
	assert.Contains(t, insts[0].IgnoreChanges, "ami", "a new Amazon Linux release must not replace dev's egress at every up")
	assert.Contains(t, insts[0].Dependencies, findByName(t, p, "aws:ec2/route:Route", "network-public-default").URN,
		"the instance boots once its subnet routes to the internet: its user data installs a package")
	assert.Equal(t, "standard", str(insts[0].Inputs, "creditSpecification", "cpuCredits"), "a burstable type never bills surplus credits")

	// A type that is not burstable takes no credit specification (EC2 refuses one).
	opts := stackOptions(t, "dev")
	setNetwork("natInstanceType", "c7gn.medium")(t, opts)
	big, err := plan.Run(opts)
	require.NoError(t, err)
	inst := big.Find("aws:ec2/instance:Instance")[0]
	assert.Equal(t, "c7gn.medium", str(inst.Inputs, "instanceType"))
	assert.Nil(t, inst.Inputs["creditSpecification"])

	// Negative controls: each broken input is reported.
	for _, c := range []struct {
		key  string
		v    any
		want string
	}{
		{"sourceDestCheck", true, "source/destination check"},
		{"associatePublicIpAddress", false, "no public address"},
		{"userData", "#!/bin/bash\n", "user data lacks net.ipv4.ip_forward=1"},
		{"metadataOptions", map[string]any{"httpTokens": "optional"}, "IMDSv1"},
	} {
		in := maps.Clone(insts[0].Inputs)
		in[c.key] = c.v
		assert.Contains(t, strings.Join(natInstanceProblems(t, p, in), "; "), c.want, c.key)
	}
	for _, r := range p.Records() {
		if r.Type == "aws:ec2/subnet:Subnet" && strings.Contains(r.Name, "-private-") {
			in := maps.Clone(insts[0].Inputs)
			in["subnetId"] = r.ID
			assert.Contains(t, strings.Join(natInstanceProblems(t, p, in), "; "), "not a public subnet")
		}
	}
}

func TestTheNatInstanceImageFollowsItsArchitecture(t *testing.T) {
	for typ, arch := range map[string]string{"t4g.nano": "arm64", "t3.micro": "x86_64", "c7gn.medium": "arm64"} {
		assert.Equal(t, arch, stackconfig.Network{NatStrategy: stackconfig.NatInstance, NatInstanceType: typ}.NatInstanceArchitecture(), typ)
	}
}

func TestDefaultSecurityGroupHasNoRules(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		sg := stackPlan(t, stack).Find("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
		require.Len(t, sg, 1)
		assert.Equal(t, []any{}, sg[0].Inputs["ingress"], stack)
		assert.Equal(t, []any{}, sg[0].Inputs["egress"], stack)
	}
}

func TestFlowLogsGoToARetainedLogGroupThroughAScopedRole(t *testing.T) {
	for stack, days := range map[string]float64{"dev": 14, "prod": 365} {
		p := stackPlan(t, stack)
		group := findByName(t, p, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
		assert.Equal(t, days, group.Inputs["retentionInDays"])
		fl := p.Find("aws:ec2/flowLog:FlowLog")[0]
		assert.Equal(t, "ALL", fl.Inputs["trafficType"])
		role := findByName(t, p, "aws:iam/role:Role", "network-flow-logs")
		trust := role.Inputs["assumeRolePolicy"].(map[string]any)
		stmt := trust["Statement"].([]any)[0].(map[string]any)
		assert.Equal(t, []any{"vpc-flow-logs.amazonaws.com"}, stmt["Principal"].(map[string]any)["Service"])
		pol := findByName(t, p, "aws:iam/rolePolicy:RolePolicy", "network-flow-logs").Inputs["policy"].(map[string]any)
		for _, s := range pol["Statement"].([]any) {
			for _, r := range s.(map[string]any)["Resource"].([]any) {
				assert.Contains(t, r, ":log-group:/aws/vpc/flow-logs/", "flow logs may only write to their own group")
			}
		}
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	// Pulumi registers resources concurrently: several runs catch what a
	// race would make differ (such as dependencies gathered from a component).
	for _, stack := range []string{"dev", "prod"} {
		a, err := plan.RunStack(projectDir, stack)
		require.NoError(t, err)
		ja, err := a.JSON()
		require.NoError(t, err)
		var b *plan.Plan
		for i := 0; i < 6; i++ {
			b, err = plan.RunStack(projectDir, stack)
			require.NoError(t, err)
			jb, err := b.JSON()
			require.NoError(t, err)
			if !bytes.Equal(ja, jb) {
				d := plan.Compare(a, b)
				var out bytes.Buffer
				require.NoError(t, d.WriteText(&out))
				t.Fatalf("run %d of %s differs from the first:\n%s", i+2, stack, out.String())
			}
		}
		var ta, tb bytes.Buffer
		require.NoError(t, a.WriteTree(&ta))
		require.NoError(t, b.WriteTree(&tb))
		assert.Equal(t, ta.String(), tb.String())
	}
}

func TestDiffFromDevToProdListsTheExtraNatGateways(t *testing.T) {
	d := plan.Compare(stackPlan(t, "dev"), stackPlan(t, "prod"))
	var added []string
	for _, r := range d.Added {
		if r.Type == "aws:ec2/natGateway:NatGateway" {
			added = append(added, r.Name)
		}
	}
	assert.ElementsMatch(t, []string{"network-nat-us-east-1a", "network-nat-us-east-1b", "network-nat-us-east-1c"}, added)
	var removed []string
	for _, r := range d.Removed {
		removed = append(removed, r.Type+" "+r.Name)
	}
	assert.Contains(t, removed, "aws:ec2/instance:Instance network-nat-instance")
	var vpcChange *plan.Change
	for i, c := range d.Changed {
		if c.Type == "aws:ec2/vpc:Vpc" {
			vpcChange = &d.Changed[i]
		}
	}
	require.NotNil(t, vpcChange)
	var paths []string
	for _, f := range vpcChange.Fields {
		paths = append(paths, f.Path)
	}
	assert.Contains(t, paths, "inputs.cidrBlock")
	assert.Contains(t, paths, "inputs.tags.Environment")

	same := plan.Compare(stackPlan(t, "dev"), stackPlan(t, "dev"))
	assert.True(t, same.Empty(), "a plan compared with itself has no changes")
}

func findByID(t *testing.T, p *plan.Plan, typ, id string) plan.Resource {
	t.Helper()
	for _, r := range p.Records() {
		if r.Type == typ && r.ID == id {
			res, ok := p.ByURN(r.URN)
			require.True(t, ok)
			return res
		}
	}
	t.Fatalf("no %s with ID %s", typ, id)
	return plan.Resource{}
}

func findByName(t *testing.T, p *plan.Plan, typ, name string) plan.Resource {
	t.Helper()
	for _, r := range p.Find(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", typ, name)
	return plan.Resource{}
}
