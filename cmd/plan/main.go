// Command plan shows what `pulumi up` would create for a stack, without the
// Pulumi CLI, AWS credentials or network: it runs the real program against
// mocks, with the stack's own Pulumi.<stack>.yaml.
//
//	go run ./cmd/plan -stack dev                   # a tree of resources and key settings
//	go run ./cmd/plan -stack dev -json             # the whole plan as JSON
//	go run ./cmd/plan -stack prod -diff old.json   # what changes compared with an earlier plan
//	go run ./cmd/plan -stack prod -policy          # the guardrail check; exit 1 on a high violation
//
// Bad config prints every problem on stderr and exits 1.
package main

import (
	"os"

	"github.com/dataplatform/dataplatform/plan/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
