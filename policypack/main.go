// Command policypack is the platform's guardrails as a Pulumi policy pack
// (package policy/pack): pulumi preview --policy-pack policypack.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/dataplatform/dataplatform/policy/pack"
)

func main() {
	if err := policyx.Main(pack.New); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
