package plan

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
)

// Main is the command line of cmd/plan: it parses args, prints to stdout and
// stderr, and returns the process exit code (0 success, 1 failure or bad
// config, 2 bad flags).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "dev", "the stack to plan: reads Pulumi.<stack>.yaml")
	dir := fs.String("dir", ".", "the project directory, holding Pulumi.yaml")
	asJSON := fs.Bool("json", false, "print the plan (or, with -diff, the diff) as JSON")
	diffFrom := fs.String("diff", "", "print what changes compared with this earlier plan (a file written by -json)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := RunStack(*dir, *stack)
	if err != nil {
		fmt.Fprintf(stderr, "plan of stack %q failed:\n%v\n", *stack, err)
		return 1
	}
	if *diffFrom != "" {
		old, err := ReadJSON(*diffFrom)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		d := Compare(old, p)
		if *asJSON {
			return writeJSON(stdout, stderr, d)
		}
		if err := d.WriteText(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if *asJSON {
		b, err := p.JSON()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		_, _ = stdout.Write(b)
		return 0
	}
	if err := p.WriteTree(stdout); err != nil {
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
