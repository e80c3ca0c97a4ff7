package karpenter

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/structmap"
)

// ControllerTypeToken is the Pulumi type of the Controller component.
const ControllerTypeToken = "dataplatform:karpenter:Controller"

// NodeClassName is the name of the one EC2NodeClass every NodePool uses.
const NodeClassName = "default"

// ControllerArgs are the inputs of NewController. Kubernetes resources use the
// provider given to the component (pulumi.Providers or pulumi.Provider).
type ControllerArgs struct {
	// Config decides what is created; see Config for defaults. Required:
	// ChartVersion and at least one node pool.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts).
	ChartDir string
	// ClusterName, ClusterEndpoint and the Infrastructure's outputs wire the
	// controller to the cluster and AWS. Required.
	ClusterName     string
	ClusterEndpoint pulumi.StringInput
	Infrastructure  *Infrastructure
	// NodeSelector places the controller (on the core nodes, not on nodes
	// Karpenter manages itself).
	NodeSelector map[string]string
	// WaitFor are resources the Helm release waits for: the core node group
	// (somewhere to run) and the access entries (nodes able to join).
	WaitFor []pulumi.Resource
	// NodeTags are put on every instance and volume Karpenter launches.
	NodeTags map[string]string
}

// Controller is the Kubernetes side of Karpenter. Create it with NewController.
type Controller struct {
	pulumi.ResourceState

	// Release is the controller's Helm release.
	Release *helmv3.Release
	// NodeClass is the EC2NodeClass.
	NodeClass *apiextensions.CustomResource
	// NodePools are the NodePools, in config order.
	NodePools []*apiextensions.CustomResource
}

// reservedTagKeys are tag keys Karpenter sets itself and refuses in a node class.
var reservedTagPrefixes = []string{"eks:eks-cluster-name", "kubernetes.io/cluster", "karpenter.sh/nodepool", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass"}

// NewController installs Karpenter with its CRDs, the EC2NodeClass and the
// NodePools. The release waits for args.WaitFor; the node class and pools
// wait for the release, so on destroy they go first and Karpenter, still
// running, removes the nodes it launched.
func NewController(ctx *pulumi.Context, name string, args *ControllerArgs, opts ...pulumi.ResourceOption) (*Controller, error) {
	if args == nil {
		args = &ControllerArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.ClusterName == "" {
		problems.Addf("clusterName", "required")
	}
	if args.Infrastructure == nil {
		problems.Addf("infrastructure", "required: the Karpenter Infrastructure (IAM roles and queue)")
	}
	if args.ClusterEndpoint == nil {
		problems.Addf("clusterEndpoint", "required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	c := &Controller{}
	if err := ctx.RegisterComponentResource(ControllerTypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	infra := args.Infrastructure

	crds, err := helmv3.NewRelease(ctx, name+"-crd", &helmv3.ReleaseArgs{
		Name:      pulumi.String("karpenter-crd"),
		Chart:     pulumi.String(charts.Path(args.ChartDir, charts.KarpenterCRD, cfg.ChartVersion)),
		Version:   pulumi.String(cfg.ChartVersion),
		Namespace: pulumi.String(cfg.Namespace),
		Atomic:    pulumi.Bool(true),
		// CRDs only: no pods, so no nodes to wait for; the API server is
		// enough, and they install while the core nodes launch.
	}, parent)
	if err != nil {
		return nil, err
	}
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:      pulumi.String("karpenter"),
		Chart:     pulumi.String(charts.Path(args.ChartDir, charts.Karpenter, cfg.ChartVersion)),
		Version:   pulumi.String(cfg.ChartVersion),
		Namespace: pulumi.String(cfg.Namespace),
		// The CRDs come from the karpenter-crd release, which upgrades them
		// with the chart; the main chart's crds/ folder is installed only once.
		SkipCrds: pulumi.Bool(true),
		Atomic:   pulumi.Bool(true),
		Timeout:  pulumi.Int(600),
		Values:   structmap.Map(controllerValues(cfg, args)),
	}, parent, pulumi.DependsOn(append([]pulumi.Resource{crds, infra.NodeAccessEntry}, args.WaitFor...)))
	if err != nil {
		return nil, err
	}
	c.Release = release

	nodeClass, err := apiextensions.NewCustomResource(ctx, name+"-"+NodeClassName, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String("karpenter.k8s.aws/v1"),
		Kind:        pulumi.String("EC2NodeClass"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(NodeClassName)},
		OtherFields: kubernetes.UntypedArgs{"spec": structmap.Map(nodeClassSpec(cfg, args))},
	}, parent, pulumi.DependsOn([]pulumi.Resource{release}))
	if err != nil {
		return nil, err
	}
	c.NodeClass = nodeClass

	for _, np := range cfg.NodePools {
		pool, err := apiextensions.NewCustomResource(ctx, name+"-"+np.Name, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("karpenter.sh/v1"),
			Kind:        pulumi.String("NodePool"),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(np.Name)},
			OtherFields: kubernetes.UntypedArgs{"spec": structmap.Map(NodePoolSpecOf(np))},
		}, parent, pulumi.DependsOn([]pulumi.Resource{release, nodeClass}))
		if err != nil {
			return nil, err
		}
		c.NodePools = append(c.NodePools, pool)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{}); err != nil {
		return nil, err
	}
	return c, nil
}

// controllerValues are the Karpenter chart's values: the cluster, the
// interruption queue, the IRSA role, replicas, resources and placement.
func controllerValues(cfg Config, args *ControllerArgs) ControllerValues {
	infra := args.Infrastructure
	return ControllerValues{
		Settings: Settings{
			ClusterName:       args.ClusterName,
			ClusterEndpoint:   args.ClusterEndpoint,
			InterruptionQueue: infra.QueueName,
		},
		ServiceAccount: ServiceAccount{
			Create:      true,
			Name:        ServiceAccountName,
			Annotations: map[string]pulumi.StringInput{identity.RoleARNAnnotation: infra.ControllerRoleARN},
		},
		Replicas: cfg.Replicas,
		Controller: ControllerContainer{Resources: ResourceRequirements{
			Requests: map[string]string{"cpu": cfg.Resources.CPU, "memory": cfg.Resources.Memory},
			Limits:   map[string]string{"cpu": cfg.Resources.CPU, "memory": cfg.Resources.Memory},
		}},
		NodeSelector: args.NodeSelector,
	}
}

// nodeClassSpec is the EC2NodeClass of Karpenter's nodes: the node role,
// the image, the cluster's subnets and security group by tag, an
// encrypted root volume, IMDSv2 with one hop, and the stack's tags (less
// those Karpenter reserves).
func nodeClassSpec(cfg Config, args *ControllerArgs) EC2NodeClassSpec {
	infra := args.Infrastructure
	nodeTags := map[string]string{}
	for k, v := range args.NodeTags {
		reserved := false
		for _, r := range reservedTagPrefixes {
			reserved = reserved || strings.HasPrefix(k, r)
		}
		if !reserved {
			nodeTags[k] = v
		}
	}
	discovery := map[string]string{"karpenter.sh/discovery": args.ClusterName}
	return EC2NodeClassSpec{
		Role:                       infra.NodeRoleName,
		AMISelectorTerms:           []map[string]string{{"alias": cfg.AMIAlias}},
		SubnetSelectorTerms:        []SelectorTerm{{Tags: discovery}},
		SecurityGroupSelectorTerms: []SelectorTerm{{Tags: discovery}},
		BlockDeviceMappings: []BlockDeviceMapping{{
			DeviceName: "/dev/xvda",
			EBS: EBS{
				VolumeSize:          fmt.Sprintf("%dGi", cfg.NodeVolumeSizeGiB),
				VolumeType:          "gp3",
				Encrypted:           true,
				DeleteOnTermination: true,
			},
		}},
		MetadataOptions: MetadataOptions{
			HTTPEndpoint:            "enabled",
			HTTPProtocolIPv6:        "disabled",
			HTTPPutResponseHopLimit: 1,
			HTTPTokens:              "required",
		},
		Tags: nodeTags,
	}
}

// NodePoolSpecOf maps a NodePool's config onto its Kubernetes spec.
func NodePoolSpecOf(np NodePool) NodePoolSpec {
	spec := NodePoolSpec{
		Template: NodePoolTemplate{
			Spec: NodePoolTemplateSpec{
				NodeClassRef: NodeClassRef{Group: "karpenter.k8s.aws", Kind: "EC2NodeClass", Name: NodeClassName},
				Requirements: []Requirement{
					{Key: "karpenter.sh/capacity-type", Operator: "In", Values: np.CapacityTypes},
					{Key: "kubernetes.io/arch", Operator: "In", Values: np.Architectures},
					{Key: "kubernetes.io/os", Operator: "In", Values: []string{"linux"}},
					{Key: "karpenter.k8s.aws/instance-category", Operator: "In", Values: np.InstanceCategories},
					{Key: "karpenter.k8s.aws/instance-generation", Operator: "Gt", Values: []string{fmt.Sprint(np.MinInstanceGeneration - 1)}},
				},
				ExpireAfter:            np.ExpireAfter,
				TerminationGracePeriod: np.TerminationGracePeriod,
				Taints:                 np.Taints,
			},
		},
		Limits: map[string]string{
			"cpu":    fmt.Sprint(np.CPULimit),
			"memory": fmt.Sprintf("%dGi", np.MemoryLimitGiB),
		},
		Disruption: Disruption{ConsolidationPolicy: np.ConsolidationPolicy, ConsolidateAfter: np.ConsolidateAfter, Budgets: np.Budgets},
		Weight:     np.Weight,
	}
	if len(np.Labels) > 0 {
		spec.Template.Metadata = &TemplateMetadata{Labels: np.Labels}
	}
	return spec
}
