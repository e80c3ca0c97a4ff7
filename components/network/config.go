package network

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of a Vpc (the stack config section
// dataplatform:network); see spec.Network for every field and default.
type Config = spec.Network

// NatStrategy says how private subnets reach the internet.
type NatStrategy = spec.NatStrategy

// The NAT strategies; see spec.NatNone, spec.NatSingle, spec.NatOnePerAz
// and spec.NatInstance.
const (
	NatNone     = spec.NatNone
	NatSingle   = spec.NatSingle
	NatOnePerAz = spec.NatOnePerAz
	NatInstance = spec.NatInstance
)

// Endpoint names an interface VPC endpoint the component can create.
type Endpoint = spec.VPCEndpoint

// The interface endpoints the component knows.
const (
	EndpointECRAPI = spec.EndpointECRAPI
	EndpointECRDKR = spec.EndpointECRDKR
	EndpointSTS    = spec.EndpointSTS
	EndpointLogs   = spec.EndpointLogs
)

// SubnetSizes and FlowLogs are parts of Config.
type (
	SubnetSizes = spec.SubnetSizes
	FlowLogs    = spec.FlowLogs
)
