package cluster

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of a Cluster (the stack config section
// dataplatform:cluster); see spec.Cluster for every field and default.
type Config = spec.Cluster

// Parts of Config.
type (
	Architecture = spec.Architecture
	APIEndpoint  = spec.APIEndpoint
	NodeGroup    = spec.NodeGroup
	Addons       = spec.Addons
)

// The architectures EKS-optimized AL2023 AMIs exist for.
const (
	ArchAMD64 = spec.ArchAMD64
	ArchARM64 = spec.ArchARM64
)

// LogTypes are the control-plane log types; all of them are always enabled.
var LogTypes = spec.ClusterLogTypes
