// Package tags builds the AWS tags that every resource of the platform carries.
// It is the one place tags are merged, so that every component tags alike.
package tags

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Merge returns base overlaid with each of extra in turn (later maps win), as
// a pulumi.StringMap ready for a resource's Tags argument. Nil maps are ignored.
func Merge(base map[string]string, extra ...map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range base {
		out[k] = pulumi.String(v)
	}
	for _, e := range extra {
		for k, v := range e {
			out[k] = pulumi.String(v)
		}
	}
	return out
}

// Named returns base plus a Name tag (the name shown in the AWS console).
func Named(base map[string]string, name string, extra ...map[string]string) pulumi.StringMap {
	return Merge(base, append(extra, map[string]string{"Name": name})...)
}
