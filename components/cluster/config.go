package cluster

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of a Cluster (the stack config section
// dataplatform:cluster); see stackconfig.Cluster for every field and default.
type Config = stackconfig.Cluster

// Parts of Config.
type (
	Architecture = stackconfig.Architecture
	APIEndpoint  = stackconfig.APIEndpoint
	NodeGroup    = stackconfig.NodeGroup
	Addons       = stackconfig.Addons
)

// The architectures EKS-optimized AL2023 AMIs exist for.
const (
	ArchAMD64 = stackconfig.ArchAMD64
	ArchARM64 = stackconfig.ArchARM64
)

// LogTypes are the control-plane log types; all of them are always enabled.
var LogTypes = stackconfig.ClusterLogTypes
