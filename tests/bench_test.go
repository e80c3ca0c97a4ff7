package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/plan"
	"github.com/dataplatform/dataplatform/stacks"
)

// BenchmarkPlan measures the offline plan of each stack: evaluating the
// whole program under mocks, as `go run ./cmd/plan` does.
func BenchmarkPlan(b *testing.B) {
	for _, stack := range []string{"dev", "prod"} {
		b.Run(stack, func(b *testing.B) {
			opts := stackOptions(b, stack)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := plan.Run(opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlatforms instantiates the prod platform N times in one program,
// to show how evaluation time and memory grow with the graph.
func BenchmarkPlatforms(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			opts := stackOptions(b, "prod")
			opts.Program = func(ctx *pulumi.Context) error {
				for k := 0; k < n; k++ {
					cfg, err := stacks.Load(ctx)
					if err != nil {
						return err
					}
					env, err := stacks.ResolveEnvironment(ctx, cfg, projectDir, time.Now())
					if err != nil {
						return err
					}
					cfg.Name = fmt.Sprintf("bench%d", k)
					if _, err := stacks.DeployInstance(ctx, cfg, env, fmt.Sprintf("p%d-", k)); err != nil {
						return err
					}
				}
				return nil
			}
			b.ReportAllocs()
			resources := 0
			for i := 0; i < b.N; i++ {
				p, err := plan.Run(opts)
				if err != nil {
					b.Fatal(err)
				}
				resources = len(p.Resources)
			}
			b.ReportMetric(float64(resources), "resources")
		})
	}
}
