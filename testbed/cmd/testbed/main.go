// Command testbed brings the test bed of a stack up from its offline plan,
// and down again.
//
//	testbed up -plan dev.json [-dir DIR] [-cache DIR]
//	testbed down [-dir DIR]
//
// DIR defaults to $TESTBED_DIR, else /var/tmp/dataplatform-testbed; the
// cache of installed tools to $TESTBED_CACHE, else
// /var/cache/dataplatform-testbed (testbed/install fills it; outside /root, which the
// bed's unprivileged processes cannot enter).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testbed up -plan PLAN.json | testbed down")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	planPath := fs.String("plan", "", "the stack's plan, written by go run ./cmd/plan -stack <stack> -json")
	dir := fs.String("dir", Dir(), "the bed's state directory")
	cache := fs.String("cache", Cache(), "the installed tools (testbed/install)")
	repo := fs.String("repo", "", "the project's checkout, whose testbed/ scripts the bed runs (default: the one testbed/install ran from)")
	_ = fs.Parse(os.Args[2:])
	logf := func(f string, a ...any) { fmt.Printf(f+"\n", a...) }
	switch os.Args[1] {
	case "up":
		tools, err := bed.ReadTools(*cache)
		if err != nil {
			fail(err)
		}
		if *repo != "" {
			tools.RepoDir = *repo
		}
		if *planPath == "" {
			fail(fmt.Errorf("-plan is required"))
		}
		if _, err := bed.Up(*dir, tools, *planPath, logf); err != nil {
			fail(fmt.Errorf("the test bed did not come up (logs in %s/logs): %w", *dir, err))
		}
		fmt.Printf("test bed of %s is up; state in %s\n", *planPath, *dir)
	case "down":
		if err := bed.Down(*dir); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

// Dir is the default state directory.
func Dir() string {
	if d := os.Getenv("TESTBED_DIR"); d != "" {
		return d
	}
	return "/var/tmp/dataplatform-testbed"
}

// Cache is the default cache of installed tools.
func Cache() string {
	if d := os.Getenv("TESTBED_CACHE"); d != "" {
		return d
	}
	return "/var/cache/dataplatform-testbed"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "testbed:", err)
	os.Exit(1)
}
