package cluster

import (
	"sync"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// schedule runs do for every resource of the plan as Pulumi's engine
// orders them: a resource once all it depends on are done (reverse: once
// all that depend on it are done, as a destroy does), where depending on a
// component means depending on each of its descendants; independent ones
// at the same time. do reports whether it did anything (false for what is
// not in the cluster: AWS's resources, components). A failure stops
// nothing already running, and every resource after it is not started, as
// Pulumi does. It returns the steps that did something, in the order they
// finished, and the first failure.
func schedule(p *planjson.Plan, reverse bool, do func(planjson.Resource) (bool, error), logf func(string, ...any)) ([]Step, error) {
	byURN := map[string]planjson.Resource{}
	children := map[string][]string{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
		children[r.Parent] = append(children[r.Parent], r.URN)
	}
	// expand replaces a component by its descendants.
	var expand func(urn string, into map[string]bool)
	expand = func(urn string, into map[string]bool) {
		if into[urn] {
			return
		}
		into[urn] = true
		for _, ch := range children[urn] {
			expand(ch, into)
		}
	}
	deps := map[string]map[string]bool{}
	for _, r := range p.Resources {
		set := map[string]bool{}
		for _, d := range r.Dependencies {
			if _, ok := byURN[d]; ok && d != r.URN {
				expand(d, set)
			}
		}
		delete(set, r.URN)
		deps[r.URN] = set
	}
	if reverse {
		rev := map[string]map[string]bool{}
		for _, r := range p.Resources {
			rev[r.URN] = map[string]bool{}
		}
		for u, set := range deps {
			for d := range set {
				rev[d][u] = true
			}
		}
		deps = rev
	}
	done := map[string]chan struct{}{}
	for _, r := range p.Resources {
		done[r.URN] = make(chan struct{})
	}
	var (
		mu     sync.Mutex
		steps  []Step
		first  error
		failed = map[string]bool{}
		wg     sync.WaitGroup
	)
	for _, r := range p.Resources {
		wg.Add(1)
		go func(r planjson.Resource) {
			defer wg.Done()
			defer close(done[r.URN])
			for d := range deps[r.URN] {
				<-done[d]
			}
			mu.Lock()
			skip := false
			for d := range deps[r.URN] {
				skip = skip || failed[d]
			}
			if skip || first != nil {
				failed[r.URN] = true
				mu.Unlock()
				return
			}
			mu.Unlock()
			start := time.Now()
			did, err := do(r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[r.URN] = true
				if first == nil {
					first = err
				}
				return
			}
			if did {
				steps = append(steps, Step{Type: r.Type, Name: r.Name, Took: time.Since(start)})
				logf("%s %s: %s", r.Type, r.Name, time.Since(start).Round(time.Millisecond))
			}
		}(r)
	}
	wg.Wait()
	return steps, first
}
