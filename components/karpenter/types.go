package karpenter

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// ControllerValues are the Karpenter chart values this library sets (chart
// values.yaml, v1.x). Everything else keeps the chart's default.
type ControllerValues struct {
	Settings       Settings            `json:"settings"`
	ServiceAccount ServiceAccount      `json:"serviceAccount"`
	Replicas       int                 `json:"replicas"`
	Controller     ControllerContainer `json:"controller"`
	NodeSelector   map[string]string   `json:"nodeSelector,omitempty"`
}

// Settings are the chart's settings block.
type Settings struct {
	ClusterName       string             `json:"clusterName"`
	ClusterEndpoint   pulumi.StringInput `json:"clusterEndpoint"`
	InterruptionQueue pulumi.StringInput `json:"interruptionQueue"`
}

// ServiceAccount is the chart's serviceAccount block.
type ServiceAccount struct {
	Create      bool                          `json:"create"`
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations,omitempty"`
}

// ControllerContainer is the chart's controller block.
type ControllerContainer struct {
	Resources ResourceRequirements `json:"resources"`
}

// ResourceRequirements are a container's requests and limits.
type ResourceRequirements struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

// EC2NodeClassSpec is the spec of a karpenter.k8s.aws/v1 EC2NodeClass.
type EC2NodeClassSpec struct {
	Role                       pulumi.StringInput   `json:"role"`
	AMISelectorTerms           []map[string]string  `json:"amiSelectorTerms"`
	SubnetSelectorTerms        []SelectorTerm       `json:"subnetSelectorTerms"`
	SecurityGroupSelectorTerms []SelectorTerm       `json:"securityGroupSelectorTerms"`
	BlockDeviceMappings        []BlockDeviceMapping `json:"blockDeviceMappings"`
	MetadataOptions            MetadataOptions      `json:"metadataOptions"`
	Tags                       map[string]string    `json:"tags,omitempty"`
}

// SelectorTerm selects subnets or security groups by tags.
type SelectorTerm struct {
	Tags map[string]string `json:"tags"`
}

// BlockDeviceMapping is one volume of a node.
type BlockDeviceMapping struct {
	DeviceName string `json:"deviceName"`
	EBS        EBS    `json:"ebs"`
}

// EBS configures an EBS volume.
type EBS struct {
	VolumeSize          string `json:"volumeSize"`
	VolumeType          string `json:"volumeType"`
	Encrypted           bool   `json:"encrypted"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
}

// MetadataOptions configure the instance metadata service of a node.
type MetadataOptions struct {
	HTTPEndpoint            string `json:"httpEndpoint"`
	HTTPProtocolIPv6        string `json:"httpProtocolIPv6"`
	HTTPPutResponseHopLimit int    `json:"httpPutResponseHopLimit"`
	HTTPTokens              string `json:"httpTokens"`
}

// NodePoolSpec is the spec of a karpenter.sh/v1 NodePool.
type NodePoolSpec struct {
	Template   NodePoolTemplate  `json:"template"`
	Limits     map[string]string `json:"limits"`
	Disruption Disruption        `json:"disruption"`
	Weight     int               `json:"weight,omitempty"`
}

// NodePoolTemplate is the template of a NodePool's nodes.
type NodePoolTemplate struct {
	Metadata *TemplateMetadata    `json:"metadata,omitempty"`
	Spec     NodePoolTemplateSpec `json:"spec"`
}

// TemplateMetadata holds the labels of a NodePool's nodes.
type TemplateMetadata struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// NodePoolTemplateSpec is the spec part of a NodePool's template.
type NodePoolTemplateSpec struct {
	NodeClassRef NodeClassRef  `json:"nodeClassRef"`
	Requirements []Requirement `json:"requirements"`
	ExpireAfter  string        `json:"expireAfter"`
	// TerminationGracePeriod bounds how long pods that block eviction hold
	// a node being replaced.
	TerminationGracePeriod string  `json:"terminationGracePeriod,omitempty"`
	Taints                 []Taint `json:"taints,omitempty"`
}

// NodeClassRef points a NodePool at its EC2NodeClass.
type NodeClassRef struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
}

// Requirement is a node selector requirement.
type Requirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// Disruption is a NodePool's disruption policy.
type Disruption struct {
	ConsolidationPolicy string `json:"consolidationPolicy"`
	ConsolidateAfter    string `json:"consolidateAfter"`
	// Budgets are the config's, whose JSON is the CRD's.
	Budgets []DisruptionBudget `json:"budgets,omitempty"`
}
