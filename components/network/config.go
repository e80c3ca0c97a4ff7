package network

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of a Vpc (the stack config section
// dataplatform:network); see stackconfig.Network for every field and default.
type Config = stackconfig.Network

// NatStrategy says how private subnets reach the internet.
type NatStrategy = stackconfig.NatStrategy

// The NAT strategies; see stackconfig.NatNone, stackconfig.NatSingle, stackconfig.NatOnePerAz
// and stackconfig.NatInstance.
const (
	NatNone     = stackconfig.NatNone
	NatSingle   = stackconfig.NatSingle
	NatOnePerAz = stackconfig.NatOnePerAz
	NatInstance = stackconfig.NatInstance
)

// Endpoint names an interface VPC endpoint the component can create.
type Endpoint = stackconfig.VPCEndpoint

// The interface endpoints the component knows.
const (
	EndpointECRAPI = stackconfig.EndpointECRAPI
	EndpointECRDKR = stackconfig.EndpointECRDKR
	EndpointSTS    = stackconfig.EndpointSTS
	EndpointLogs   = stackconfig.EndpointLogs
)

// SubnetSizes and FlowLogs are parts of Config.
type (
	SubnetSizes = stackconfig.SubnetSizes
	FlowLogs    = stackconfig.FlowLogs
)
