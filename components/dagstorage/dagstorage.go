// Package dagstorage provides EFS: an encrypted EFS file system that
// Airflow's components share their DAGs on (ReadWriteMany), reachable only
// from the cluster's nodes, with the EFS CSI driver (its own IRSA role) and
// a StorageClass that gives each claim its own access point.
package dagstorage

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/internal/validate"
)

// TypeToken is the Pulumi type of the EFS component.
const TypeToken = "dataplatform:dagstorage:EFS"

// StorageClassName is the StorageClass of the DAG volume.
const StorageClassName = "efs-dags"

// AirflowUID is the user Airflow's image runs as; access points are its.
const AirflowUID = "50000"

// EFSArgs are the inputs of NewEFS. Kubernetes resources use the provider
// given to the component; AWS resources use the default one.
type EFSArgs struct {
	// ClusterName, the cluster's IRSA provider and the EFS CSI add-on version. Required.
	ClusterName                 string
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	AddonVersion                string
	// VpcID and SubnetIDs (the private subnets, one mount target each). Required.
	VpcID     pulumi.StringInput
	SubnetIDs []pulumi.StringInput
	// ClientSecurityGroupID is the only group admitted on NFS (the cluster SG). Required.
	ClientSecurityGroupID pulumi.StringInput
	// KMSKeyARN encrypts the file system. Required.
	KMSKeyARN pulumi.StringInput
	// Nodes is what the add-on waits for.
	Nodes []pulumi.Resource
	// Protect guards the file system against `pulumi destroy`.
	Protect bool
	Tags    map[string]string
}

// EFS is the DAG file system and its StorageClass.
type EFS struct {
	pulumi.ResourceState

	// FileSystemID is the file system's ID.
	FileSystemID pulumi.StringOutput `pulumi:"fileSystemId"`
	// StorageClass is the class claims use; Ready is everything they need.
	StorageClass string
	Ready        []pulumi.Resource
}

// NewEFS creates the file system, its mount targets and security group,
// the EFS CSI driver add-on and the StorageClass.
func NewEFS(ctx *pulumi.Context, name string, args *EFSArgs, opts ...pulumi.ResourceOption) (*EFS, error) {
	var p validate.Problems
	if args == nil || args.ClusterName == "" || args.AddonVersion == "" || args.VpcID == nil || len(args.SubnetIDs) == 0 || args.ClientSecurityGroupID == nil || args.KMSKeyARN == nil {
		p.Addf("args", "clusterName, addonVersion, vpcId, subnetIds, clientSecurityGroupId and kmsKeyArn are required")
		return nil, p.Err()
	}
	e := &EFS{StorageClass: StorageClassName}
	if err := ctx.RegisterComponentResource(TypeToken, name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	t := args.Tags
	fs, err := efs.NewFileSystem(ctx, name, &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		KmsKeyId:        args.KMSKeyARN,
		PerformanceMode: pulumi.String("generalPurpose"),
		ThroughputMode:  pulumi.String("elastic"),
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			&efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String("AFTER_30_DAYS")},
		},
		Tags: tags.Named(t, args.ClusterName+"-dags"),
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.String("NFS to the DAG file system from the EKS nodes only"),
		Tags:        tags.Named(t, args.ClusterName+"-dags"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-nfs-from-nodes", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		Description:               pulumi.String("NFS from the EKS cluster's nodes"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(2049),
		ToPort:                    pulumi.Int(2049),
		ReferencedSecurityGroupId: args.ClientSecurityGroupID,
		Tags:                      tags.Named(t, args.ClusterName+"-dags-nfs"),
	}, parent); err != nil {
		return nil, err
	}
	var ready []pulumi.Resource
	for i, subnet := range args.SubnetIDs {
		mt, err := efs.NewMountTarget(ctx, name+"-"+string(rune('a'+i)), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnet,
			SecurityGroups: pulumi.StringArray{sg.ID()},
		}, parent)
		if err != nil {
			return nil, err
		}
		ready = append(ready, mt)
	}
	role, err := identity.NewIrsaRole(ctx, name+"-csi", &identity.IrsaRoleArgs{
		OIDCProviderARN:   args.OIDCProviderARN,
		OIDCIssuer:        args.OIDCIssuer,
		ServiceAccounts:   []identity.ServiceAccount{{Namespace: "kube-system", Name: "efs-csi-controller-sa"}},
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"},
		Description:       "EFS CSI driver of EKS cluster " + args.ClusterName,
		Tags:              t,
	}, parent)
	if err != nil {
		return nil, err
	}
	addon, err := awseks.NewAddon(ctx, name+"-csi", &awseks.AddonArgs{
		ClusterName:              pulumi.String(args.ClusterName),
		AddonName:                pulumi.String("aws-efs-csi-driver"),
		AddonVersion:             pulumi.String(args.AddonVersion),
		ServiceAccountRoleArn:    role.RoleARN,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     tags.Named(t, args.ClusterName+"-aws-efs-csi-driver"),
	}, parent, pulumi.DependsOn(args.Nodes))
	if err != nil {
		return nil, err
	}
	sc, err := storagev1.NewStorageClass(ctx, name, &storagev1.StorageClassArgs{
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(StorageClassName)},
		Provisioner: pulumi.String("efs.csi.aws.com"),
		Parameters: pulumi.StringMap{
			"provisioningMode": pulumi.String("efs-ap"),
			"fileSystemId":     fs.ID(),
			"directoryPerms":   pulumi.String("770"),
			"uid":              pulumi.String(AirflowUID),
			"gid":              pulumi.String("0"),
		},
		ReclaimPolicy:     pulumi.String("Retain"),
		VolumeBindingMode: pulumi.String("Immediate"),
	}, parent, pulumi.DependsOn([]pulumi.Resource{addon}))
	if err != nil {
		return nil, err
	}
	e.FileSystemID = fs.ID().ToStringOutput()
	e.Ready = append(ready, sc, addon)
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{"fileSystemId": e.FileSystemID}); err != nil {
		return nil, err
	}
	return e, nil
}
