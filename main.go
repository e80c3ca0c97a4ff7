// Command dataplatform is the Pulumi program of the data platform; run it with
// `pulumi up`. The whole program lives in package stacks.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/stacks"
)

func main() {
	pulumi.Run(stacks.Run)
}
