// Package cli is the command line of cmd/plan: the offline plan, its diff
// and its policy check.
package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dataplatform/dataplatform/insights"
	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/policy"
	"github.com/dataplatform/dataplatform/stackconfig"
	"github.com/dataplatform/dataplatform/verify"
)

// Main parses args, prints to stdout and stderr, and returns the process
// exit code: 0 success, 1 failure (bad config, a failed policy check), 2 bad flags.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "dev", "the stack to plan: reads Pulumi.<stack>.yaml")
	dir := fs.String("dir", ".", "the project directory, holding Pulumi.yaml")
	asJSON := fs.Bool("json", false, "print the plan (or, with -diff or -policy, the result) as JSON")
	diffFrom := fs.String("diff", "", "print what changes compared with this earlier plan (a file written by -json)")
	identities := fs.Bool("identities", false, "print, as JSON, what identifies each resource (URN, parent and the inputs that name its cloud object): keep it for what is deployed, and -diff against it shows what `pulumi up` would replace")
	checkPolicy := fs.Bool("policy", false, "check the plan against the guardrail rules; exit 1 on a high-severity violation")
	estimate := fs.Bool("estimate", false, "print the stack's monthly cost when idle, per resource and in total")
	criticalPath := fs.Bool("critical-path", false, "print the modelled deploy time: the longest chain of creations, and a fully serial deploy")
	nodes := fs.Bool("nodes", false, "print, as JSON, the nodes the idle platform runs on (the core node group's, and those Karpenter brings each NodePool for its always-on pods)")
	network := fs.Bool("network", false, "print the network matrix: which pod may reach which pod's port and which outside address, as the NetworkPolicies allow it (with -json, every flow)")
	demand := fs.Bool("demand", false, "print, as JSON, each long-running workload's pods: requests, replicas, and the NodePool or node group the plan expects them on")
	account := fs.String("account", "", "plan for this AWS account instead of the example one the stack files are written for (shows what to set before a real deploy)")
	listRules := fs.Bool("rules", false, "list every rule the plan and the policy pack check: the fake AWS's and the object checks' refusals, and the guardrails, each with its kind and source (with -json, as JSON)")
	deployRole := fs.String("deploy-role", "", "the IAM role `pulumi up` runs as (default pulumi-deploy-<stack>)")
	var sets []string
	fs.Func("set", "change a config value for this plan only, as `pulumi config set --path` would: -set 'dataplatform:database.loginGeneration=2' (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("want path=value")
		}
		sets = append(sets, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *listRules {
		return writeRules(stdout, stderr, *asJSON)
	}
	opts, err := plan.LoadOptions(*dir, *stack)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	opts.Account, opts.CallerRole = *account, *deployRole
	for _, s := range sets {
		path, value, _ := strings.Cut(s, "=")
		if err := opts.Set(path, value); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	p, err := plan.Run(opts)
	if err != nil {
		fmt.Fprintf(stderr, "plan of stack %q failed:\n%v\n", *stack, err)
		return 1
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	switch {
	case *diffFrom != "":
		return writeDiff(stdout, stderr, p, *diffFrom, *asJSON)
	case *identities:
		return writeJSON(stdout, stderr, p.Identities())
	case *checkPolicy:
		return writePolicy(stdout, stderr, p, opts, *asJSON)
	case *estimate:
		prices := insights.Prices()
		e := insights.EstimateCost(p, prices)
		if *asJSON {
			return writeJSON(stdout, stderr, e)
		}
		return check(stderr, e.WriteText(stdout, prices))
	case *network:
		if *asJSON {
			return writeJSON(stdout, stderr, p.NetworkMatrix())
		}
		return check(stderr, plan.WriteNetworkMatrix(stdout, p.NetworkMatrix()))
	case *nodes:
		return writeJSON(stdout, stderr, insights.Nodes(p, insights.Prices()))
	case *demand:
		return writeJSON(stdout, stderr, p.AlwaysOn())
	case *criticalPath:
		c := insights.Critical(p)
		if *asJSON {
			return writeJSON(stdout, stderr, c)
		}
		return check(stderr, c.WriteText(stdout))
	case *asJSON:
		b, err := p.JSON()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		_, _ = stdout.Write(b)
		return 0
	default:
		return check(stderr, p.WriteTree(stdout))
	}
}

// writeDiff prints what changes from the plan in the file from to p.
func writeDiff(stdout, stderr io.Writer, p *plan.Plan, from string, asJSON bool) int {
	old, err := plan.ReadJSON(from)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	d := plan.Compare(old, p)
	if asJSON {
		return writeJSON(stdout, stderr, d)
	}
	return check(stderr, d.WriteText(stdout))
}

// writePolicy checks p against the guardrails with the stack's waivers,
// and fails on a high-severity violation.
func writePolicy(stdout, stderr io.Writer, p *plan.Plan, opts plan.Options, asJSON bool) int {
	cfg, err := stackconfig.Parse(opts.Project, opts.Stack, func(k string) string { return opts.Config[k] })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var waivers []policy.Waiver
	for _, w := range cfg.Policy.Waivers {
		waivers = append(waivers, policy.Waiver{Rule: w.Rule, Reason: w.Reason})
	}
	rep, err := policy.Evaluate(p, waivers)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if asJSON {
		if code := writeJSON(stdout, stderr, rep); code != 0 {
			return code
		}
	} else if code := check(stderr, rep.WriteText(stdout)); code != 0 {
		return code
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func check(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	_, _ = stdout.Write(append(b, '\n'))
	return 0
}

// writeRules lists verify's registry: every rule of the three fronts.
func writeRules(stdout, stderr io.Writer, asJSON bool) int {
	rules := verify.Rules()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rules); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	count := map[string]int{}
	fmt.Fprintf(stdout, "%-9s  %-10s  %-8s  %s: %s\n", "KIND", "FRONT", "SEVERITY", "ID", "SOURCE")
	for _, r := range rules {
		count[string(r.Kind)]++
		sev := string(r.Severity)
		if sev == "" {
			sev = "-"
		}
		fmt.Fprintf(stdout, "%-9s  %-10s  %-8s  %s: %s\n", r.Kind, r.Front, sev, r.ID, r.Source)
	}
	fmt.Fprintf(stdout, "\n%d rules: %d refusals (no waiver), %d guardrails (severity and waivers)\n", len(rules), count[string(verify.Refusal)], count[string(verify.Guardrail)])
	return 0
}
