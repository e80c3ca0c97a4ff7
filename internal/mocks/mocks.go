// Package mocks answers Pulumi's resource monitor in-process, so the real
// program runs with no CLI, no credentials and no network. The outputs it
// returns take the shapes AWS returns (IDs, ARNs, endpoints) for the stack's
// region and a fixed account, and every registration is recorded so that the
// offline plan and the tests can inspect the whole graph.
//
// When a resource's mock outputs differ from what AWS returns, fix them here:
// the plan is only as faithful as these answers.
package mocks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccountID is the AWS account every mocked ARN is in.
const AccountID = "123456789012"

// DeployRole is the role the mocked deploy of a stack runs as, by the
// convention the stack files follow: "pulumi-deploy-<stack>".
func DeployRole(stack string) string { return "pulumi-deploy-" + stack }

// Record is one resource registration, as the Pulumi engine would see it.
type Record struct {
	URN          string
	Type         string
	Name         string
	Parent       string
	Provider     string
	Dependencies []string
	// PropertyDependencies maps an input's name to the URNs it was computed from.
	PropertyDependencies map[string][]string
	Protect              bool
	RetainOnDelete       bool
	Custom               bool
	Remote               bool
	DeletedWith          string
	Inputs               resource.PropertyMap
	Outputs              resource.PropertyMap
	ID                   string
	// NameGenerated says how the physical name was made when the program
	// did not set it ("auto-named by Pulumi from ..."), or "".
	NameGenerated string
	// IgnoreChanges are the input paths Pulumi does not diff.
	IgnoreChanges []string
	// Aliases are the older identities the program gave the resource, which
	// the engine matches against the state before it creates anything new.
	Aliases []Alias
}

// Alias is one alias a resource was registered with: a whole old URN, or
// the parts of the old URN that differ from the new one (an empty part is
// the resource's current one).
type Alias struct {
	URN, Name, Type, Parent string
	// NoParent says the resource had no parent (the stack's root).
	NoParent bool
}

// Mocks implements pulumi.MockResourceMonitor. Create one with New for each run.
type Mocks struct {
	Project string
	Stack   string
	Region  string
	// Account is the fake account's ID (AccountID unless a test plans for
	// another account).
	Account string
	// CallerRole is the IAM role the deploy runs as: aws:getCallerIdentity
	// answers with a session of it. Default DeployRole(Stack).
	CallerRole string
	// Seed changes what the random provider generates: a plan with another
	// seed is a rebuild of the stack after a destroy.
	Seed string
	// ExternalAccounts are accounts other than AccountID that ARNs may
	// name, because the stack's config says so.
	ExternalAccounts map[string]bool
	// State is the stack's state before this run (the records of the
	// previous `pulumi up`), by "type/name"; nil for a first deploy. As
	// Pulumi keeps them in state, the random provider's resources keep
	// their results while their inputs (keepers) stay the same, and get new
	// ones when a change of inputs replaces them.
	State map[string]Record

	mu      sync.Mutex
	records []Record
	// reads are the requests the program's invokes make, in every preview.
	reads []Read
	// refs holds the "type/name" of resources that the mock returned as
	// references in a component's outputs; the SDK registers them again, and
	// those registrations are the mock's doing, not the program's.
	refs map[string]refTarget
	// refOwners maps the URN of each such reference to the URN of the
	// component that really owns it, so that a dependency on the reference
	// shows as a dependency on that component, as it would in a real run.
	refOwners map[string]string
}

// New returns mocks for the given project, stack and AWS region.
func New(project, stack, region string) *Mocks {
	return &Mocks{Project: project, Stack: stack, Region: region, Account: AccountID, CallerRole: DeployRole(stack),
		refs: map[string]refTarget{}, refOwners: map[string]string{}}
}

// Records returns every resource the program registered, sorted by URN.
func (m *Mocks) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, len(m.records))
	for i, r := range m.records {
		r.Dependencies = m.ownersOf(r.Dependencies)
		if len(r.PropertyDependencies) > 0 {
			pd := map[string][]string{}
			for k, v := range r.PropertyDependencies {
				pd[k] = m.ownersOf(v)
			}
			r.PropertyDependencies = pd
		}
		out[i] = r
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	key := args.TypeToken + "/" + args.Name
	m.mu.Lock()
	ref, isRef := m.refs[key]
	m.mu.Unlock()
	if isRef && (args.RegisterRPC == nil || args.RegisterRPC.GetParent() == "" || resource.URN(args.RegisterRPC.GetParent()).QualifiedType() == resource.RootStackType) {
		return ref.id, ref.outputs, nil
	}

	var (
		id        string
		outputs   resource.PropertyMap
		generated string
	)
	if args.TypeToken == "eks:index:Cluster" {
		var err error
		if id, outputs, err = m.eksClusterOutputs(args, args.Inputs.Copy()); err != nil {
			return "", nil, err
		}
	} else {
		id, outputs, generated = m.outputs(args)
	}
	rec := Record{
		Type:          args.TypeToken,
		Name:          args.Name,
		Custom:        args.Custom,
		Inputs:        args.Inputs,
		Outputs:       outputs,
		ID:            id,
		NameGenerated: generated,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent = rpc.GetParent()
		rec.Dependencies = sortedUnique(rpc.GetDependencies())
		rec.Protect = rpc.GetProtect()
		rec.RetainOnDelete = rpc.GetRetainOnDelete()
		rec.Remote = rpc.GetRemote()
		rec.DeletedWith = rpc.GetDeletedWith()
		rec.IgnoreChanges = rpc.GetIgnoreChanges()
		for _, a := range rpc.GetAliases() {
			if sp := a.GetSpec(); sp != nil {
				rec.Aliases = append(rec.Aliases, Alias{Name: sp.GetName(), Type: sp.GetType(), Parent: sp.GetParentUrn(), NoParent: sp.GetNoParent()})
			} else if u := a.GetUrn(); u != "" {
				rec.Aliases = append(rec.Aliases, Alias{URN: u})
			}
		}
		if p := rpc.GetProvider(); p != "" {
			// A provider reference is "URN::ID"; the URN is what identifies it.
			if i := strings.LastIndex(p, "::"); i > 0 {
				p = p[:i]
			}
			rec.Provider = p
		}
		if pd := rpc.GetPropertyDependencies(); len(pd) > 0 {
			rec.PropertyDependencies = map[string][]string{}
			for k, v := range pd {
				if urns := sortedUnique(v.GetUrns()); len(urns) > 0 {
					rec.PropertyDependencies[k] = urns
				}
			}
		}
	}
	rec.URN = m.urn(rec.Parent, rec.Type, rec.Name)
	m.mu.Lock()
	m.records = append(m.records, rec)
	m.mu.Unlock()
	return id, outputs, nil
}

// urn builds a URN the way the mock monitor does.
func (m *Mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.Stack), tokens.PackageName(m.Project), parentType, tokens.Type(typ), name))
}

// ownersOf replaces references' URNs by their owners' URNs. Call with m.mu held.
func (m *Mocks) ownersOf(urns []string) []string {
	out := make([]string, 0, len(urns))
	for _, u := range urns {
		if owner, ok := m.refOwners[u]; ok {
			u = owner
		}
		out = append(out, u)
	}
	return sortedUnique(out)
}

// refTarget is what a resource reference stands for.
type refTarget struct {
	id      string
	outputs resource.PropertyMap
}

// reference returns a resource reference that the SDK resolves by
// registering the resource again, and remembers the ID and outputs to answer
// that registration with; see NOTES.md on mocking pulumi-eks. A dependency
// on the reference shows as one on target, the resource it stands for.
func (m *Mocks) reference(target, typ, name, id string, outputs resource.PropertyMap) resource.PropertyValue {
	m.mu.Lock()
	m.refs[typ+"/"+name] = refTarget{id: id, outputs: outputs}
	m.refOwners[m.urn("", typ, name)] = target
	m.mu.Unlock()
	return resource.NewProperty(resource.ResourceReference{Type: typ, Name: name, ID: resource.NewProperty(id)})
}

// CallerARN is the ARN aws:getCallerIdentity returns: a session of CallerRole.
func (m *Mocks) CallerARN() string {
	return "arn:aws:sts::" + m.Account + ":assumed-role/" + m.CallerRole + "/ci"
}

// publicParameter matches the public SSM parameters AWS publishes for the
// latest Amazon Linux 2023 images (Amazon Linux 2023 user guide, "AL2023
// on Amazon EC2": al2023-ami-kernel-default-arm64, ...-x86_64, and the
// minimal and kernel-pinned variants).
var publicParameter = regexp.MustCompile(`^/aws/service/ami-amazon-linux-latest/al2023-ami-(minimal-)?kernel-(default|6\.1|6\.12)-(arm64|x86_64)$`)

// Call implements pulumi.MockResourceMonitor for invokes.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.record(ReadsOf(args.Token, args.Args, m.Region)...)
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		names, ids := []resource.PropertyValue{}, []resource.PropertyValue{}
		for i, s := range []string{"a", "b", "c", "d", "e", "f"}[:m.zoneCount()] {
			names = append(names, resource.NewProperty(m.Region+s))
			ids = append(ids, resource.NewProperty(fmt.Sprintf("%s-az%d", regionShort(m.Region), i+1)))
		}
		return resource.PropertyMap{"names": resource.NewProperty(names), "zoneIds": resource.NewProperty(ids), "id": resource.NewProperty(m.Region)}, nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.PropertyMap{
			"accountId": resource.NewProperty(m.Account),
			"arn":       resource.NewProperty(m.CallerARN()),
			"userId":    resource.NewProperty("AROAEXAMPLE:ci"),
			"id":        resource.NewProperty(m.Account),
		}, nil
	case "aws:index/getRegion:getRegion":
		return resource.PropertyMap{"name": resource.NewProperty(m.Region), "id": resource.NewProperty(m.Region)}, nil
	case "aws:index/getPartition:getPartition":
		// The partition is the region's (AWS General Reference, "AWS
		// partitions"): China's regions are aws-cn, GovCloud's aws-us-gov.
		partition, suffix := "aws", "amazonaws.com"
		switch {
		case strings.HasPrefix(m.Region, "cn-"):
			partition, suffix = "aws-cn", "amazonaws.com.cn"
		case strings.HasPrefix(m.Region, "us-gov-"):
			partition = "aws-us-gov"
		}
		return resource.PropertyMap{"partition": resource.NewProperty(partition), "dnsSuffix": resource.NewProperty(suffix), "id": resource.NewProperty(partition)}, nil
	case "aws:ec2/getSubnet:getSubnet":
		return m.lookupSubnet(args.Args)
	case "aws:secretsmanager/getSecretVersion:getSecretVersion":
		arn := args.Args["secretId"].StringValue()
		return resource.PropertyMap{"arn": resource.NewProperty(arn), "id": resource.NewProperty(arn + "|AWSCURRENT"),
			"secretString": resource.MakeSecret(resource.NewProperty(fakeSecret(hash(arn+m.Seed), 40))), "versionId": resource.NewProperty("v-" + hash(arn)[:8])}, nil
	case "aws:ssm/getParameter:getParameter":
		name := args.Args["name"].StringValue()
		if !publicParameter.MatchString(name) {
			return nil, fmt.Errorf("ssm GetParameter %q: ParameterNotFound (the fake AWS holds only Amazon Linux 2023's public image parameters)", name)
		}
		return resource.PropertyMap{"name": resource.NewProperty(name), "value": resource.NewProperty("ami-0" + hash(name)[:16]), "type": resource.NewProperty("String"), "id": resource.NewProperty(name)}, nil
	}
	return resource.PropertyMap{}, nil
}

// zoneCount is how many availability zones the mocked region offers: most
// regions have 3, us-east-1 has 6 and us-west-2 has 4.
func (m *Mocks) zoneCount() int {
	switch m.Region {
	case "us-east-1":
		return 6
	case "us-west-2":
		return 4
	}
	return 3
}

func regionShort(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	return parts[0] + parts[1][:1] + parts[2]
}

// hash is a stable hex digest of s; IDs derived from it are the same on every run.
func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Secrets returns every secret value the mocks generated, such as passwords.
func (m *Mocks) Secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.records {
		for _, v := range r.Outputs {
			if v.IsSecret() && v.SecretValue().Element.IsString() {
				out = append(out, v.SecretValue().Element.StringValue())
			}
		}
	}
	sort.Strings(out)
	return out
}

// RunExample runs program under fresh mocks (region us-east-1), as
// `pulumi up` would, and returns how many resources of each type it
// registered. Go Example functions of the components use it.
func RunExample(program pulumi.RunFunc) (map[string]int, error) {
	m := New("example", "dev", "us-east-1")
	err := pulumi.RunErr(program, pulumi.WithMocks("example", "dev", m))
	if v := m.Violations(); err == nil && len(v) > 0 {
		err = fmt.Errorf("AWS would refuse: %s", v[0])
	}
	counts := map[string]int{}
	for _, r := range m.Records() {
		counts[r.Type]++
	}
	return counts, err
}
