package cluster

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// Down deletes what Up created, as `pulumi destroy` does: each resource
// once everything that depends on it is gone, the others at the same time;
// a release by Helm's uninstall action waiting for its objects to be gone
// (pulumi-kubernetes sets Wait unless skipAwait, with the release's
// timeout), a program object by a delete in the foreground and a wait
// until it no longer exists (a Namespace until every object in it is
// gone). It returns each step, and fails on a step that does not finish,
// naming what is left and its finalizers.
func (c *Cluster) Down(ctx context.Context, p *planjson.Plan, logf func(string, ...any)) ([]Step, error) {
	return schedule(p, true, func(r planjson.Resource) (bool, error) {
		switch {
		case r.Type == ReleaseType:
			if err := c.uninstall(r, logf); err != nil {
				return true, fmt.Errorf("release %s: %w", r.Name, err)
			}
		case IsObject(r):
			if err := c.deleteObject(ctx, r); err != nil {
				return true, fmt.Errorf("%s %s: %w", r.Type, r.Name, err)
			}
		default:
			return false, nil
		}
		return true, nil
	}, logf)
}

func (c *Cluster) uninstall(r planjson.Resource, logf func(string, ...any)) error {
	ns, _ := r.Inputs["namespace"].(string)
	cfg, err := c.helm(ns, logf)
	if err != nil {
		return err
	}
	u := action.NewUninstall(cfg)
	u.Wait = !flag(r.Inputs, "skipAwait")
	u.Timeout = 300 * time.Second
	if t, ok := r.Inputs["timeout"].(float64); ok && t > 0 {
		u.Timeout = time.Duration(t) * time.Second
	}
	name, _ := r.Inputs["name"].(string)
	_, err = u.Run(name)
	return err
}

func (c *Cluster) deleteObject(ctx context.Context, r planjson.Resource) error {
	u := Object(r)
	ri, _, err := c.resourceFor(u)
	if err != nil {
		return err
	}
	fg := metav1.DeletePropagationForeground
	if err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return c.waitGone(ctx, u, 10*time.Minute)
}
