// Package cluster provides Cluster, an EKS cluster for the platform: API
// authentication through access entries, secrets encrypted under a dedicated
// KMS key, every control-plane log, an OIDC provider for IRSA, pinned managed
// add-ons, and a small AL2023 core node group with IMDSv2 enforced.
package cluster

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// AddonConfiguration are the managed add-ons' configuration values, by
// add-on name. The VPC CNI enforces NetworkPolicies (its network policy
// agent, EKS user guide "Restrict pod network traffic with Kubernetes
// network policies"): without it the apps' NetworkPolicies are accepted
// by the API server and do nothing.
var AddonConfiguration = map[string]string{
	"vpc-cni": `{"enableNetworkPolicy":"true"}`,
}

// TypeToken is the Pulumi type of the Cluster component.
const TypeToken = "dataplatform:cluster:Cluster"

// CoreNodeLabel is the label (key and value) of the core node group's nodes;
// platform controllers select it, data workloads run elsewhere.
const (
	CoreNodeLabelKey   = "dataplatform.io/node-pool"
	CoreNodeLabelValue = "core"
)

// CoreTaintKey is the taint on dedicated core nodes (value "true",
// NoSchedule); platform controllers tolerate it.
const CoreTaintKey = "CriticalAddonsOnly"

// CoreToleration is the toleration that lets a pod onto the core nodes, in
// the shape Helm charts take it.
var CoreToleration = map[string]string{"key": CoreTaintKey, "operator": "Exists", "effect": "NoSchedule"}

// EBSCSIServiceAccount is the service account of the EBS CSI controller.
var EBSCSIServiceAccount = identity.ServiceAccount{Namespace: "kube-system", Name: "ebs-csi-controller-sa"}

// ClusterArgs are the inputs of NewCluster.
type ClusterArgs struct {
	// Config decides what is created; see Config for defaults.
	Config Config
	// Name is the EKS cluster's name. Required.
	Name string
	// VpcID is the cluster's VPC. Required.
	VpcID pulumi.StringInput
	// PrivateSubnetIDs are where the control plane's network interfaces and
	// the core nodes go; at least two zones. Required.
	PrivateSubnetIDs pulumi.StringArrayInput
	// NodeDependencies are what nodes need before they launch, such as the
	// NAT routes or VPC endpoints of the private subnets (network.Vpc.EgressReady).
	NodeDependencies []pulumi.Resource
	// Tags are added to every taggable resource.
	Tags map[string]string
}

// Cluster is an EKS cluster with its core node group. Create it with NewCluster.
type Cluster struct {
	pulumi.ResourceState

	// Name is the EKS cluster's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// ARN is the cluster's ARN.
	ARN pulumi.StringOutput `pulumi:"arn"`
	// Endpoint is the API server's URL.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// CertificateAuthority is the API server's CA bundle, base64-encoded.
	CertificateAuthority pulumi.StringOutput `pulumi:"certificateAuthority"`
	// OIDCProviderARN is the ARN of the IAM OIDC provider, for IRSA trust.
	OIDCProviderARN pulumi.StringOutput `pulumi:"oidcProviderArn"`
	// OIDCIssuer is the issuer URL without "https://", the prefix of IRSA
	// condition keys.
	OIDCIssuer pulumi.StringOutput `pulumi:"oidcIssuer"`
	// ClusterSecurityGroupID is the security group EKS creates and attaches
	// to the control plane's network interfaces.
	ClusterSecurityGroupID pulumi.StringOutput `pulumi:"clusterSecurityGroupId"`
	// NodeSecurityGroupID is the security group of every node (the core
	// node group and Karpenter's): allow database and file system access
	// from it.
	NodeSecurityGroupID pulumi.StringOutput `pulumi:"nodeSecurityGroupId"`
	// AdminAccess are the access entries (and their policies) of
	// Config.AdminRoleARNs: whatever talks to the Kubernetes API as the
	// deployer must wait for them.
	AdminAccess []pulumi.Resource
	// SecretsKeyARN is the KMS key that encrypts Kubernetes secrets.
	SecretsKeyARN pulumi.StringOutput `pulumi:"secretsKeyArn"`
	// Kubeconfig is a kubeconfig (JSON, secret) for a Kubernetes provider.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// ControlPlane is the pulumi-eks component, for DependsOn.
	ControlPlane pulumi.Resource
	// CoreNodeGroup is the core managed node group, for DependsOn.
	CoreNodeGroup *awseks.NodeGroup
	// Addons are the managed add-ons by EKS name (vpc-cni, coredns,
	// kube-proxy, aws-ebs-csi-driver), for DependsOn.
	Addons map[string]*awseks.Addon
}

var clusterName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,99}$`)

// NewCluster creates the cluster. Invalid args are rejected before anything
// is registered.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		args = &ClusterArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if !clusterName.MatchString(args.Name) {
		problems.Addf("name", "want an EKS cluster name (letters, digits, hyphens, starting with a letter), got %q", args.Name)
	}
	if args.VpcID == nil {
		problems.Addf("vpcId", "required")
	}
	if args.PrivateSubnetIDs == nil {
		problems.Addf("privateSubnetIds", "required")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}

	c := &Cluster{Addons: map[string]*awseks.Addon{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	b := &clusterBuild{ctx: ctx, name: name, cfg: cfg, args: args, c: c, parent: pulumi.Parent(c), t: args.Tags}
	for _, step := range []func() error{b.secretsKeyAndLogs, b.controlPlane, b.nodesAndAddons} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	c.Name = b.cp.name
	c.ARN = b.cp.arn
	c.Endpoint = b.cp.endpoint
	c.CertificateAuthority = b.cp.certificateAuthority
	c.OIDCProviderARN = b.cp.oidcProviderARN
	c.OIDCIssuer = b.cp.oidcIssuer
	c.ClusterSecurityGroupID = b.cp.clusterSecurityGroupID
	c.NodeSecurityGroupID = b.cp.nodeSecurityGroupID
	c.AdminAccess = b.cp.adminAccess
	c.SecretsKeyARN = b.key.Arn
	c.Kubeconfig = b.cp.kubeconfig
	c.ControlPlane = b.cp.resource
	c.CoreNodeGroup = b.ng
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":                   c.Name,
		"endpoint":               c.Endpoint,
		"oidcProviderArn":        c.OIDCProviderARN,
		"clusterSecurityGroupId": c.ClusterSecurityGroupID,
		"nodeSecurityGroupId":    c.NodeSecurityGroupID,
		"kubeconfig":             c.Kubeconfig,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// clusterBuild is NewCluster's work in named steps.
type clusterBuild struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	args   *ClusterArgs
	c      *Cluster
	parent pulumi.ResourceOption
	t      map[string]string

	key  *kms.Key
	logs *cloudwatch.LogGroup
	cp   *controlPlane
	ng   *awseks.NodeGroup
}

// secretsKeyAndLogs makes the key that encrypts Kubernetes Secrets, and
// the control plane's log group.
func (b *clusterBuild) secretsKeyAndLogs() error {
	var err error
	b.key, err = kms.NewKey(b.ctx, b.name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Envelope encryption of Kubernetes secrets of EKS cluster %s", b.args.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 tags.Named(b.t, b.args.Name+"-eks-secrets"),
	}, b.parent, pulumi.Protect(b.cfg.Protect))
	if err != nil {
		return err
	}
	if _, err := kms.NewAlias(b.ctx, b.name+"-secrets", &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s-eks-secrets", b.args.Name),
		TargetKeyId: b.key.KeyId,
	}, b.parent); err != nil {
		return err
	}
	// EKS writes control-plane logs to this group; creating it first sets
	// their retention (EKS would create it with none).
	b.logs, err = cloudwatch.NewLogGroup(b.ctx, b.name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/eks/%s/cluster", b.args.Name),
		RetentionInDays: pulumi.Int(b.cfg.LogRetentionDays),
		Tags:            tags.Named(b.t, b.args.Name+"-control-plane"),
	}, b.parent)
	if err != nil {
		return err
	}

	return nil
}

// controlPlane makes the EKS control plane (pulumi-eks), and tags its node
// security group for Karpenter.
func (b *clusterBuild) controlPlane() error {
	var err error
	b.cp, err = newControlPlane(b.ctx, b.name, controlPlaneArgs{
		name:          b.args.Name,
		cfg:           b.cfg,
		vpcID:         b.args.VpcID,
		subnetIDs:     b.args.PrivateSubnetIDs,
		secretsKeyARN: b.key.Arn,
		tags:          b.t,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.logs}))
	if err != nil {
		return err
	}

	// Karpenter finds the security group of new nodes by this tag: the
	// node security group, as for the core nodes.
	if _, err := ec2.NewTag(b.ctx, b.name+"-node-sg-discovery", &ec2.TagArgs{
		ResourceId: b.cp.nodeSecurityGroupID,
		Key:        pulumi.String("karpenter.sh/discovery"),
		Value:      pulumi.String(b.args.Name),
	}, b.parent); err != nil {
		return err
	}

	return nil
}

// addon makes one pinned managed add-on.
func (b *clusterBuild) addon(addonName, version string, role pulumi.StringInput, deps []pulumi.Resource) (*awseks.Addon, error) {
	var config pulumi.StringPtrInput
	if conf, ok := AddonConfiguration[addonName]; ok {
		config = pulumi.String(conf)
	}
	a, err := awseks.NewAddon(b.ctx, b.name+"-"+addonName, &awseks.AddonArgs{
		ConfigurationValues:      config,
		ClusterName:              b.cp.name,
		AddonName:                pulumi.String(addonName),
		AddonVersion:             pulumi.String(version),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		ServiceAccountRoleArn:    role,
		Tags:                     tags.Named(b.t, b.args.Name+"-"+addonName),
	}, b.parent, pulumi.DependsOn(deps))
	if err == nil {
		b.c.Addons[addonName] = a
	}
	return a, err
}

// nodesAndAddons makes the managed add-ons and the core node group.
func (b *clusterBuild) nodesAndAddons() error {
	for _, a := range []struct{ name, version string }{{"vpc-cni", b.cfg.Addons.VpcCni}, {"kube-proxy", b.cfg.Addons.KubeProxy}} {
		if _, err := b.addon(a.name, a.version, nil, nil); err != nil {
			return err
		}
	}

	// The nodes do not wait for the managed vpc-cni and kube-proxy: EKS
	// installs its own (self-managed) copies with the cluster
	// (bootstrapSelfManagedAddons, on by default), nodes turn Ready with
	// them, and the managed add-ons take them over (OVERWRITE) in parallel.
	var err error
	b.ng, err = newCoreNodeGroup(b.ctx, b.name, b.args.Name, b.cp, b.cfg.CoreNodeGroup, b.args.PrivateSubnetIDs, b.t, b.parent, b.args.NodeDependencies)
	if err != nil {
		return err
	}
	if _, err := b.addon("coredns", b.cfg.Addons.CoreDNS, nil, []pulumi.Resource{b.ng}); err != nil {
		return err
	}
	ebsRole, err := identity.NewIrsaRole(b.ctx, b.name+"-ebs-csi", &identity.IrsaRoleArgs{
		OIDCProviderARN:   b.cp.oidcProviderARN,
		OIDCIssuer:        b.cp.oidcIssuer,
		ServiceAccounts:   []identity.ServiceAccount{EBSCSIServiceAccount},
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
		Description:       "EBS CSI driver of EKS cluster " + b.args.Name,
		Tags:              b.t,
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := b.addon("aws-ebs-csi-driver", b.cfg.Addons.EbsCsiDriver, ebsRole.RoleARN, []pulumi.Resource{b.ng}); err != nil {
		return err
	}
	if _, err := b.addon("metrics-server", b.cfg.Addons.MetricsServer, nil, []pulumi.Resource{b.ng}); err != nil {
		return err
	}

	return nil
}

// newCoreNodeGroup creates the core managed node group on AL2023, with a
// launch template that requires IMDSv2 with a hop limit of 1 (pods cannot
// reach the node's credentials) and encrypts the gp3 root volume.
// The node group alone waits for deps; its role and launch template do not.
func newCoreNodeGroup(ctx *pulumi.Context, name, clusterName string, cp *controlPlane, cfg NodeGroup, subnets pulumi.StringArrayInput, t map[string]string, parent pulumi.ResourceOption, deps []pulumi.Resource) (*awseks.NodeGroup, error) {
	role, err := identity.NewNodeRole(ctx, name+"-core-node", "Core nodes of EKS cluster "+clusterName, t, parent)
	if err != nil {
		return nil, err
	}
	nodeTags := tags.Named(t, clusterName+"-core")
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-core", &ec2.LaunchTemplateArgs{
		Description:          pulumi.Sprintf("Core nodes of EKS cluster %s", clusterName),
		UpdateDefaultVersion: pulumi.Bool(true),
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
			HttpProtocolIpv6:        pulumi.String("disabled"),
		},
		// The node security group alone: with a group of its own in the
		// launch template, EKS does not add its cluster security group.
		VpcSecurityGroupIds: pulumi.StringArray{cp.nodeSecurityGroupID},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(cfg.DiskSizeGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: nodeTags},
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: nodeTags},
		},
		Tags: tags.Named(t, clusterName+"-core"),
	}, parent)
	if err != nil {
		return nil, err
	}
	taints := awseks.NodeGroupTaintArray{}
	if *cfg.Dedicated {
		taints = append(taints, &awseks.NodeGroupTaintArgs{Key: pulumi.String(CoreTaintKey), Value: pulumi.String("true"), Effect: pulumi.String("NO_SCHEDULE")})
	}
	return awseks.NewNodeGroup(ctx, name+"-core", &awseks.NodeGroupArgs{
		ClusterName: cp.name,
		// Node group names are per cluster, so the platform's name need not
		// be in it: "core-" and the provider's 26 characters fit EKS's 63
		// with room to spare, whatever the cluster's name.
		NodeGroupNamePrefix: pulumi.String("core-"),
		NodeRoleArn:         role.Arn,
		SubnetIds:           subnets,
		AmiType:             pulumi.String(cfg.Architecture.AMIType()),
		CapacityType:        pulumi.String("ON_DEMAND"),
		InstanceTypes:       pulumi.ToStringArray(cfg.InstanceTypes),
		ScalingConfig: &awseks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(cfg.MinSize),
			DesiredSize: pulumi.Int(cfg.DesiredSize),
			MaxSize:     pulumi.Int(cfg.MaxSize),
		},
		UpdateConfig: &awseks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
		LaunchTemplate: &awseks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
		Labels: pulumi.StringMap{CoreNodeLabelKey: pulumi.String(CoreNodeLabelValue)},
		Taints: taints,
		Tags:   tags.Named(t, clusterName+"-core"),
	}, parent, pulumi.DependsOn(deps))
}
