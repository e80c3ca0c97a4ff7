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
	parent := pulumi.Parent(c)
	t := args.Tags

	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Envelope encryption of Kubernetes secrets of EKS cluster %s", args.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 tags.Named(t, args.Name+"-eks-secrets"),
	}, parent, pulumi.Protect(cfg.Protect))
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name+"-secrets", &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s-eks-secrets", args.Name),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	// EKS writes control-plane logs to this group; creating it first sets
	// their retention (EKS would create it with none).
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/eks/%s/cluster", args.Name),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
		Tags:            tags.Named(t, args.Name+"-control-plane"),
	}, parent)
	if err != nil {
		return nil, err
	}

	cp, err := newControlPlane(ctx, name, controlPlaneArgs{
		name:          args.Name,
		cfg:           cfg,
		vpcID:         args.VpcID,
		subnetIDs:     args.PrivateSubnetIDs,
		secretsKeyARN: key.Arn,
		tags:          t,
	}, parent, pulumi.DependsOn([]pulumi.Resource{logs}))
	if err != nil {
		return nil, err
	}

	// Karpenter finds the security group of new nodes by this tag: the
	// node security group, as for the core nodes.
	if _, err := ec2.NewTag(ctx, name+"-node-sg-discovery", &ec2.TagArgs{
		ResourceId: cp.nodeSecurityGroupID,
		Key:        pulumi.String("karpenter.sh/discovery"),
		Value:      pulumi.String(args.Name),
	}, parent); err != nil {
		return nil, err
	}

	// The managed add-ons, pinned.
	addon := func(addonName, version string, role pulumi.StringInput, deps []pulumi.Resource) (*awseks.Addon, error) {
		var config pulumi.StringPtrInput
		if c, ok := AddonConfiguration[addonName]; ok {
			config = pulumi.String(c)
		}
		a, err := awseks.NewAddon(ctx, name+"-"+addonName, &awseks.AddonArgs{
			ConfigurationValues:      config,
			ClusterName:              cp.name,
			AddonName:                pulumi.String(addonName),
			AddonVersion:             pulumi.String(version),
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
			ServiceAccountRoleArn:    role,
			Tags:                     tags.Named(t, args.Name+"-"+addonName),
		}, parent, pulumi.DependsOn(deps))
		if err == nil {
			c.Addons[addonName] = a
		}
		return a, err
	}
	for _, a := range []struct{ name, version string }{{"vpc-cni", cfg.Addons.VpcCni}, {"kube-proxy", cfg.Addons.KubeProxy}} {
		if _, err := addon(a.name, a.version, nil, nil); err != nil {
			return nil, err
		}
	}

	// The nodes do not wait for the managed vpc-cni and kube-proxy: EKS
	// installs its own (self-managed) copies with the cluster
	// (bootstrapSelfManagedAddons, on by default), nodes turn Ready with
	// them, and the managed add-ons take them over (OVERWRITE) in parallel.
	ng, err := newCoreNodeGroup(ctx, name, args.Name, cp, cfg.CoreNodeGroup, args.PrivateSubnetIDs, t, parent, args.NodeDependencies)
	if err != nil {
		return nil, err
	}
	if _, err := addon("coredns", cfg.Addons.CoreDNS, nil, []pulumi.Resource{ng}); err != nil {
		return nil, err
	}
	ebsRole, err := identity.NewIrsaRole(ctx, name+"-ebs-csi", &identity.IrsaRoleArgs{
		OIDCProviderARN:   cp.oidcProviderARN,
		OIDCIssuer:        cp.oidcIssuer,
		ServiceAccounts:   []identity.ServiceAccount{EBSCSIServiceAccount},
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
		Description:       "EBS CSI driver of EKS cluster " + args.Name,
		Tags:              t,
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := addon("aws-ebs-csi-driver", cfg.Addons.EbsCsiDriver, ebsRole.RoleARN, []pulumi.Resource{ng}); err != nil {
		return nil, err
	}
	if _, err := addon("metrics-server", cfg.Addons.MetricsServer, nil, []pulumi.Resource{ng}); err != nil {
		return nil, err
	}

	c.Name = cp.name
	c.ARN = cp.arn
	c.Endpoint = cp.endpoint
	c.CertificateAuthority = cp.certificateAuthority
	c.OIDCProviderARN = cp.oidcProviderARN
	c.OIDCIssuer = cp.oidcIssuer
	c.ClusterSecurityGroupID = cp.clusterSecurityGroupID
	c.NodeSecurityGroupID = cp.nodeSecurityGroupID
	c.AdminAccess = cp.adminAccess
	c.SecretsKeyARN = key.Arn
	c.Kubeconfig = cp.kubeconfig
	c.ControlPlane = cp.resource
	c.CoreNodeGroup = ng
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
