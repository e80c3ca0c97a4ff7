package karpenter

import "slices"

// Placement returns what puts a pod on the nodes of c's NodePool pool: a node selector
// on Karpenter's nodepool label, and tolerations of the pool's taints. It
// returns nil values for an unknown or empty pool name.
func Placement(c Config, pool string) (map[string]string, []map[string]string) {
	for _, np := range c.NodePools {
		if np.Name != pool || pool == "" {
			continue
		}
		var tolerations []map[string]string
		for _, t := range np.Taints {
			tol := map[string]string{"key": t.Key, "operator": "Exists", "effect": t.Effect}
			if t.Value != "" {
				tol = map[string]string{"key": t.Key, "operator": "Equal", "value": t.Value, "effect": t.Effect}
			}
			tolerations = append(tolerations, tol)
		}
		return map[string]string{"karpenter.sh/nodepool": pool}, tolerations
	}
	return nil, nil
}

// Spot reports whether pods placed on pool may run on spot capacity; ""
// (no placement) means any pool without taints.
func Spot(c Config, pool string) bool {
	for _, np := range c.NodePools {
		if (np.Name == pool || (pool == "" && len(np.Taints) == 0)) && slices.Contains(np.CapacityTypes, "spot") {
			return true
		}
	}
	return false
}
