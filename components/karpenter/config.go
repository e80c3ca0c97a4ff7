package karpenter

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of Karpenter (the stack config section
// dataplatform:karpenter); see stackconfig.Karpenter for every field and default.
type Config = stackconfig.Karpenter

// Parts of Config.
type (
	Resources = stackconfig.ControllerResources
	NodePool  = stackconfig.NodePool
	Taint     = stackconfig.Taint
	// DisruptionBudget is a NodePool's disruption budget.
	DisruptionBudget = stackconfig.DisruptionBudget
)
