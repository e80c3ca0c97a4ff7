//go:build testbed

// Package tests drives a running test bed as the platform's users do: a
// browser signs in, a DAG runs, the apps' logins connect, rotate and are
// refused where they must be, and every TLS client refuses a server it
// must not trust. Bring a bed up first (testbed/up <stack>); testbed/run
// does all of it for both stacks. The tests run in the bed's "laptop"
// network namespace, which resolves every name of the bed.
package tests

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

var b *bed.Bed

func TestMain(m *testing.M) {
	dir := os.Getenv("TESTBED_DIR")
	cache := os.Getenv("TESTBED_CACHE")
	if cache == "" {
		cache = "/var/cache/dataplatform-testbed"
	}
	if dir == "" {
		fmt.Fprintln(os.Stderr, "TESTBED_DIR must name a running bed (testbed/up prints it; testbed/run sets it)")
		os.Exit(2)
	}
	tools, err := bed.ReadTools(cache)
	if err == nil {
		b, err = bed.Open(dir, tools)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// eventually retries f until it succeeds or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(2 * time.Second):
		}
	}
}

// stackHasSSO says whether the plan signs users in through Cognito.
func stackHasSSO() bool { return len(b.State.Users) > 0 }
