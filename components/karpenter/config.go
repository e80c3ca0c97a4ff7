package karpenter

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of Karpenter (the stack config section
// dataplatform:karpenter); see spec.Karpenter for every field and default.
type Config = spec.Karpenter

// Parts of Config.
type (
	Resources = spec.ControllerResources
	NodePool  = spec.NodePool
	Taint     = spec.Taint
	// DisruptionBudget is a NodePool's disruption budget.
	DisruptionBudget = spec.DisruptionBudget
)
