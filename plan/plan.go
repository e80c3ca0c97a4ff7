// Package plan runs the real Pulumi program in-process against mocks and
// returns what `pulumi up` would create: every resource with its type, name,
// parent, provider, dependencies, protection and inputs, plus the stack's
// outputs. It needs no Pulumi CLI, no credentials and no network, so it runs
// anywhere `go` does: on a laptop, in CI, on a pull request from a fork.
//
// Secrets never leave it in plain text: a secret input or output is rendered
// as "[secret]".
package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dataplatform/dataplatform/internal/configedit"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/mocks"
	"github.com/dataplatform/dataplatform/internal/validate"
	"github.com/dataplatform/dataplatform/stackconfig"
	"github.com/dataplatform/dataplatform/stacks"
)

// SecretMarker replaces every secret value in a plan.
const SecretMarker = "[secret]"

// UnknownMarker stands for a value that would only be known after deployment.
const UnknownMarker = "[unknown]"

// Plan is the planned state of one stack.
type Plan struct {
	// Stack is the stack planned.
	Stack string `json:"stack"`
	// Resources are every registered resource, in URN order.
	Resources []Resource `json:"resources"`
	// Outputs are the stack outputs; a secret one is "[secret]".
	Outputs map[string]any `json:"outputs"`
	// Warnings are what the program warns of (`pulumi up` shows them):
	// a root CA of the database bundle close to expiry.
	Warnings []string `json:"warnings,omitempty"`
	// IdentitiesOnly marks a plan reduced by Identities: a diff against it
	// compares only what identifies each resource.
	IdentitiesOnly bool `json:"identitiesOnly,omitempty"`

	records []mocks.Record
	secrets []string
	// region is the fake AWS's region.
	region string
	// images are the architectures of images the config names (such as a
	// custom Airflow image), besides ImageArchitectures.
	images map[string]ImageArch
	// objects are the rendered objects of each Helm release, by URN.
	objects map[string][]Object
	byURN   map[string]int
}

// Resource is one planned resource.
type Resource struct {
	// URN, Type and Name identify the resource as Pulumi does.
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Parent is the URN of the component it belongs to, or "" at the top.
	Parent string `json:"parent"`
	// Provider is the URN of an explicit provider, or "" for the default one.
	Provider string `json:"provider"`
	// Dependencies are the URNs it waits for (inputs and DependsOn).
	Dependencies []string `json:"dependencies"`
	// Protect refuses its deletion by Pulumi.
	Protect bool `json:"protect"`
	// RetainOnDelete keeps the cloud resource when Pulumi deletes it.
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
	// ID is the physical ID the fake AWS (or Kubernetes) gave a custom
	// resource: what `pulumi up` would learn after creating it (a real
	// preview shows it as unknown). The test bed plays AWS with these IDs.
	ID string `json:"id,omitempty"`
	// Remote marks a multi-language component (pulumi-eks's cluster): its
	// children are created by its own plugin, and waiting for it means
	// waiting for all of them.
	Remote bool `json:"remote,omitempty"`
	// IgnoreChanges are input paths Pulumi does not diff after creation.
	IgnoreChanges []string `json:"ignoreChanges,omitempty"`
	// Aliases are the older identities the resource was registered with;
	// the engine adopts the old resource of a matching URN instead of
	// replacing it (see Compare).
	Aliases []Alias `json:"aliases,omitempty"`
	// Rendered are the objects a Helm release creates, as its vendored
	// chart renders them for its values, keyed "Kind namespace/name"
	// (Secrets' values and CRDs' schemas are shown masked or digested).
	Rendered map[string]any `json:"rendered,omitempty"`
	// Inputs are what the program sets, as JSON values; secrets are "[secret]".
	Inputs map[string]any `json:"inputs"`
}

// Options says which program to run with which config.
type Options struct {
	// Project and Stack name the Pulumi project and stack.
	Project, Stack string
	// Config holds the stack's config as the Pulumi engine passes it to a
	// program: "namespace:key" to a string (objects and lists as JSON).
	Config map[string]string
	// SecretKeys lists the config keys that hold secrets.
	SecretKeys []string
	// Program is the Pulumi program; default stacks.Run.
	Program pulumi.RunFunc
	// Dir is the project directory: chart archives are found relative to
	// it, as the Kubernetes provider finds them during `pulumi up`.
	// Default ".".
	Dir string
	// ExternalAccounts are AWS accounts besides the caller's that ARNs may
	// name (the platform's own program reads them from its config,
	// dataplatform:policy.externalAccounts).
	ExternalAccounts []string
	// Account and CallerRole are the fake AWS account and the IAM role the
	// deploy runs as. Defaults: mocks.AccountID (the example account the
	// stack files are written for) and "pulumi-deploy-<stack>".
	Account, CallerRole string
	// Tools are the deploying machine's tools, for the platform's own
	// program; default DeployMachine.
	Tools stacks.ToolFinder
	// Seed changes what the random provider generates: the plan of a
	// rebuild after `pulumi destroy`.
	Seed string
	// Previous is the plan of the stack's previous `pulumi up`, when this
	// run is an update of it: generated values (random passwords and IDs)
	// stay what they were unless a change of their inputs replaces them.
	Previous *Plan
}

// DeployMachine is the machine the README's real-deploy section describes:
// every tool of stacks.Tools at its oldest working version.
type DeployMachine struct{}

// Version answers with the tool's oldest working version.
func (DeployMachine) Version(tool string) (string, error) {
	for _, t := range stacks.Tools {
		if t.Name == tool {
			return t.Min, nil
		}
	}
	return "", fmt.Errorf("not found on PATH")
}

// warningTools records the program's warnings (stacks.Warner) in a plan.
type warningTools struct {
	stacks.ToolFinder
	warnings *[]string
}

// Warn records a warning of the run.
func (w warningTools) Warn(message string) { *w.warnings = append(*w.warnings, message) }

// Run evaluates the program of opts under mocks and returns its plan. When
// the program fails (bad config included) it returns the error, and a plan
// of whatever was registered before the failure: for bad config, nothing.
func Run(opts Options) (*Plan, error) {
	var warnings []string
	program := opts.Program
	if program == nil {
		// The platform's own program: refuse misspelt config keys, as
		// stacks.Load does in a real run.
		keys := make([]string, 0, len(opts.Config))
		for k := range opts.Config {
			keys = append(keys, k)
		}
		if err := stackconfig.CheckKeys(keys); err != nil {
			return &Plan{Stack: opts.Stack, Outputs: map[string]any{}}, err
		}
		tools := opts.Tools
		if tools == nil {
			tools = DeployMachine{}
		}
		program = stacks.RunWith(warningTools{tools, &warnings})
	}
	m, images, region := fakeAccount(opts)
	var (
		mu      sync.Mutex
		outputs = map[string]any{}
	)
	wrapped := func(ctx *pulumi.Context) error {
		if err := program(ctx); err != nil {
			return err
		}
		// The run waits for these applies; an output that fails (the
		// program's error) never calls its apply, and the run returns the error.
		for name, in := range ctx.GetCurrentExportMap() {
			out := pulumi.ToOutput(in)
			out.ApplyT(func(v any) any {
				secret := pulumi.IsSecret(out) // resolved by now: does not block
				mu.Lock()
				defer mu.Unlock()
				if secret {
					outputs[name] = SecretMarker
				} else {
					outputs[name] = normalize(v)
				}
				return nil
			})
		}
		return nil
	}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = opts.Config
		info.ConfigSecretKeys = opts.SecretKeys
		info.RootDirectory = opts.Dir
	}
	runErr := pulumi.RunErr(wrapped, pulumi.WithMocks(opts.Project, opts.Stack, m), withConfig)
	var verr *validate.Error
	if errors.As(runErr, &verr) {
		runErr = verr // drop the engine's "1 error occurred" wrapping
	}
	p := &Plan{Stack: opts.Stack, Outputs: outputs, records: m.Records(), secrets: m.Secrets(), images: images, region: region, Warnings: warnings}
	for _, r := range p.records {
		deps := r.Dependencies
		if deps == nil {
			deps = []string{}
		}
		p.Resources = append(p.Resources, Resource{
			URN:            r.URN,
			Type:           r.Type,
			Name:           r.Name,
			Parent:         parentOf(r.Parent),
			Provider:       r.Provider,
			Dependencies:   deps,
			Protect:        r.Protect,
			RetainOnDelete: r.RetainOnDelete,
			Remote:         r.Remote,
			IgnoreChanges:  r.IgnoreChanges,
			Aliases:        aliasesOf(r.Aliases),
			ID:             customID(r),
			Inputs:         plainMap(r.Inputs),
		})
	}
	if runErr == nil {
		dir := opts.Dir
		if dir == "" {
			dir = "."
		}
		v := m.Violations()
		v = append(v, p.renderReleases(dir)...)
		v = append(v, p.CheckObjects()...)
		if len(v) > 0 {
			runErr = &RefusedError{Violations: v}
		}
	}
	return p, runErr
}

// fakeAccount is the fake AWS the plan runs against: the region, account,
// caller and previous state of opts, the accounts the stack's config names
// on purpose, and the architectures of the images it names.
func fakeAccount(opts Options) (*mocks.Mocks, map[string]ImageArch, string) {
	region := opts.Config["aws:region"]
	if region == "" {
		region = "us-east-1"
	}
	m := mocks.New(opts.Project, opts.Stack, region)
	if opts.Account != "" {
		m.Account = opts.Account
	}
	if opts.CallerRole != "" {
		m.CallerRole = opts.CallerRole
	}
	m.Seed = opts.Seed
	if opts.Previous != nil {
		m.State = map[string]mocks.Record{}
		for _, r := range opts.Previous.records {
			m.State[r.Type+"/"+r.Name] = r
		}
	}
	m.ExternalAccounts = map[string]bool{}
	for _, a := range opts.ExternalAccounts {
		m.ExternalAccounts[a] = true
	}
	images := map[string]ImageArch{}
	if opts.Program == nil {
		// The accounts the stack's config names on purpose, and the
		// architectures of the images it names.
		if cfg, err := stackconfig.Parse(opts.Project, opts.Stack, func(k string) string { return opts.Config[k] }); err == nil {
			for _, a := range cfg.Policy.ExternalAccounts {
				m.ExternalAccounts[a.Account] = true
			}
			if arch := cfg.Apps.Airbyte.ConnectorArchitecture; arch == "arm64" || arch == "any" {
				images[ConnectorImages] = ImageArch{[]string{"amd64", "arm64"}, "dataplatform:apps.airbyte.connectorArchitecture " + arch}
			}
			if af := cfg.Apps.Airflow; af.Image != "" {
				images[imageRepository(af.Image)] = ImageArch{af.ImageArchitectures, "dataplatform:apps.airflow.imageArchitectures"}
			}
		}
	}
	return m, images, region
}

// RefusedError is returned when the program runs but AWS, Helm or
// Kubernetes would refuse what it creates: each violation names the
// resource, the input and the rule.
type RefusedError struct {
	// Violations are every refusal, sorted by resource.
	Violations []mocks.Violation
}

// Error lists every violation, one a line.
func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan would fail: %d problems:", len(e.Violations))
	for _, v := range e.Violations {
		b.WriteString("\n  - " + v.String())
	}
	return b.String()
}

// RunStack loads Pulumi.yaml and Pulumi.<stack>.yaml from dir and runs the
// program of stack against them.
func RunStack(dir, stack string) (*Plan, error) {
	opts, err := LoadOptions(dir, stack)
	if err != nil {
		return nil, err
	}
	return Run(opts)
}

// LoadOptions reads the project name from dir/Pulumi.yaml and the stack's
// config from dir/Pulumi.<stack>.yaml, the files `pulumi up` reads. Encrypted
// ("secure") values cannot be decrypted offline; they are passed as secrets
// holding a placeholder.
func LoadOptions(dir, stack string) (Options, error) {
	st, err := configedit.Read(dir, stack)
	if err != nil {
		return Options{}, err
	}
	return Options{Project: st.Project, Stack: stack, Config: st.Config, SecretKeys: st.SecretKeys, Dir: dir}, nil
}

// parentOf drops the root stack as a parent: top-level resources have none.
func parentOf(urn string) string {
	if resource.URN(urn).IsValid() && resource.URN(urn).QualifiedType() == resource.RootStackType {
		return ""
	}
	return urn
}

// customID is a custom resource's physical ID, or "" for a component.
func customID(r mocks.Record) string {
	if !r.Custom {
		return ""
	}
	return r.ID
}

// JSON renders the plan as one indented JSON document. The same plan always
// renders to the same bytes.
func (p *Plan) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Clone returns a deep copy of p's resources, outputs and rendered objects,
// which a test may break without touching p (the raw records are shared).
func (p *Plan) Clone() (*Plan, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	out := &Plan{records: p.records, secrets: p.secrets, images: p.images, region: p.region}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	b, err = json.Marshal(p.objects)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out.objects); err != nil {
		return nil, err
	}
	return out, nil
}

// Records returns the raw registrations behind the plan, for checks that
// need values the JSON form hides (tests use it to look for leaked secrets).
func (p *Plan) Records() []mocks.Record { return p.records }

// GeneratedSecrets returns the plain values of every secret the mocks
// generated (passwords, keys), so tests can prove none of them leaks.
func (p *Plan) GeneratedSecrets() []string { return p.secrets }

// Find returns the resources of type typ, in URN order.
func (p *Plan) Find(typ string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// ByURN returns the resource with that URN.
func (p *Plan) ByURN(urn string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.URN == urn {
			return r, true
		}
	}
	return Resource{}, false
}

// Count returns how many resources of each type the plan holds.
func (p *Plan) Count() map[string]int {
	out := map[string]int{}
	for _, r := range p.Resources {
		out[r.Type]++
	}
	return out
}

// plainMap turns a resource's inputs into plain JSON values. A top-level
// input that holds a JSON document as a string (a policy, an event pattern)
// is shown as that document, so it can be read and checked; nested strings
// (such as Helm values) stay strings, exactly as they are sent.
func plainMap(m resource.PropertyMap) map[string]any {
	out := nestedMap(m)
	for k, v := range out {
		if s, ok := v.(string); ok {
			out[k] = maybeJSON(s)
		}
	}
	return out
}

func nestedMap(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if strings.HasPrefix(string(k), "__") {
			continue // engine bookkeeping, such as __defaults
		}
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return SecretMarker
	case v.IsComputed():
		return UnknownMarker
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return SecretMarker
		}
		if !o.Known {
			return UnknownMarker
		}
		return plainValue(o.Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		a := v.ArrayValue()
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = plainValue(e)
		}
		return out
	case v.IsObject():
		return nestedMap(v.ObjectValue())
	case v.IsResourceReference():
		return map[string]any{"urn": string(v.ResourceReferenceValue().URN)}
	case v.IsAsset():
		a := v.AssetValue()
		return map[string]any{"asset": a.Path + a.URI, "hash": a.Hash}
	case v.IsArchive():
		return map[string]any{"archive": v.ArchiveValue().Path}
	}
	return fmt.Sprint(v.V)
}

// maybeJSON shows a string that holds a JSON object (a policy document, an
// event pattern) as that object, so the plan can be read and checked.
func maybeJSON(s string) any {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return s
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(t), &v); err != nil {
		return s
	}
	return v
}

// normalize turns a Go value from an output into plain JSON values.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

// Set changes one config value of opts the way `pulumi config set --path`
// would: path is "namespace:key" or "namespace:key.field.field" (an object
// field of a structured value, made when missing), and value is JSON when
// it parses as JSON (a number, a boolean, an object), else a string.
func (o *Options) Set(path, value string) error {
	key, fields, _ := strings.Cut(path, ".")
	if !strings.Contains(key, ":") {
		return fmt.Errorf("-set %s: want namespace:key[.field...]=value, such as dataplatform:database.loginGeneration=2", path)
	}
	var v any = value
	var parsed any
	if json.Unmarshal([]byte(value), &parsed) == nil {
		v = parsed
	}
	if err := configedit.SetIn(o.Config, key, fields, v); err != nil {
		return fmt.Errorf("-set %s: %w", path, err)
	}
	return nil
}
