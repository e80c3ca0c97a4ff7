// Package stacks is the program that `pulumi up` runs: it reads the stack's
// config, validates all of it before creating anything, maps it onto the
// components' arguments, wires the components together and exports what
// operators need. dev and prod differ only in their Pulumi.<stack>.yaml.
package stacks

import (
	"encoding/json"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dataplatform/dataplatform/stackconfig"
)

// Config is the whole, typed configuration of one stack; see stackconfig.Stack.
type Config = stackconfig.Stack

// Load reads the stack's config, applies defaults and validates it (see
// stackconfig.Parse). It registers no resource and calls no AWS API: what the
// account answers is ResolveEnvironment's.
func Load(ctx *pulumi.Context) (*Config, error) {
	// The engine passes a Go program its whole config in PULUMI_CONFIG:
	// misspelt keys of our namespace are caught there.
	if raw := os.Getenv("PULUMI_CONFIG"); raw != "" {
		var all map[string]string
		if json.Unmarshal([]byte(raw), &all) == nil {
			keys := make([]string, 0, len(all))
			for k := range all {
				keys = append(keys, k)
			}
			if err := stackconfig.CheckKeys(keys); err != nil {
				return nil, err
			}
		}
	}
	return stackconfig.Parse(ctx.Project(), ctx.Stack(), func(key string) string { return config.Get(ctx, key) })
}
