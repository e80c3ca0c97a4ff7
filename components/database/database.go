// Package database provides Postgres: an RDS PostgreSQL instance that is
// private (database subnets, reachable on 5432 only from the cluster's
// nodes), encrypted with a customer-managed key, TLS-only, with its master
// password generated and rotated by RDS in Secrets Manager (never set by us,
// never in state), and, by config, Multi-AZ, a read replica and protection.
package database

import (
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// TypeToken is the Pulumi type of the Postgres component.
const TypeToken = "dataplatform:database:Postgres"

// Port is the port PostgreSQL listens on.
const Port = 5432

// PostgresArgs are the inputs of NewPostgres.
type PostgresArgs struct {
	// Config decides the instance's size and safety; see spec.Database for defaults.
	Config Config
	// Identifier is the RDS instance identifier, such as "dataplatform-dev-airbyte". Required.
	Identifier string
	// DatabaseName is the database created with the instance; "" creates
	// none (RDS's own "postgres" database is always there), for an
	// instance whose databases the login jobs make (LoginsArgs.DatabaseName).
	DatabaseName string
	// MasterUsername is the master user's name; RDS generates its password. Required.
	MasterUsername string
	// VpcID and SubnetIDs (the database subnets) place the instance. Required.
	VpcID     pulumi.StringInput
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupID is the only security group admitted on 5432 (the
	// EKS cluster security group every node carries). Required.
	ClientSecurityGroupID pulumi.StringInput
	// KMSKeyARN encrypts storage, Performance Insights and the master
	// password's secret. Required.
	KMSKeyARN pulumi.StringInput
	Tags      map[string]string
}

// Postgres is an RDS PostgreSQL instance. Create it with NewPostgres.
type Postgres struct {
	pulumi.ResourceState

	// Address is the primary's host name.
	Address pulumi.StringOutput `pulumi:"address"`
	// Port is the port (5432).
	Port pulumi.IntOutput `pulumi:"port"`
	// DatabaseName and MasterUsername are as given.
	DatabaseName   string
	MasterUsername string
	// Label names what the platform makes for the instance, such as its
	// alarms: the last word of its identifier ("airbyte" of
	// "dataplatform-prod-airbyte").
	Label string
	// MasterSecretARN is the Secrets Manager secret RDS keeps the master
	// credentials in, as JSON {"username": ..., "password": ...}.
	MasterSecretARN pulumi.StringOutput `pulumi:"masterSecretArn"`
	// ReplicaAddress is the read replica's host name, or "" without one.
	ReplicaAddress pulumi.StringOutput `pulumi:"replicaAddress"`
	// HasReplica tells whether there is a read replica.
	HasReplica bool
	// ReplicaIdentifier is the replica's RDS identifier, or "" without one.
	ReplicaIdentifier pulumi.StringOutput
	// AllocatedStorageGiB is the storage allocated at creation.
	AllocatedStorageGiB float64
	// SecurityGroupID is the instance's security group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// Instance is the primary, for DependsOn.
	Instance *rds.Instance
	// Generation is a random suffix made when the instance is (8 hex
	// digits): the names of the snapshots that outlive a `pulumi destroy`
	// carry it, so a rebuild of the stack names its own afresh.
	Generation pulumi.StringOutput
}

var (
	identifier = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	pgName     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// NewPostgres creates the instance and everything it needs.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	if args == nil {
		args = &PostgresArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if !identifier.MatchString(args.Identifier) {
		problems.Addf("identifier", "want up to 63 lowercase letters, digits and hyphens, starting with a letter, got %q", args.Identifier)
	}
	if args.DatabaseName != "" && !pgName.MatchString(args.DatabaseName) {
		problems.Addf("databaseName", "want a PostgreSQL name (lowercase letters, digits, underscores) or none, got %q", args.DatabaseName)
	}
	if !pgName.MatchString(args.MasterUsername) || args.MasterUsername == "postgres" || args.MasterUsername == "rdsadmin" {
		problems.Addf("masterUsername", "want a PostgreSQL role name other than postgres and rdsadmin, got %q", args.MasterUsername)
	}
	for field, in := range map[string]any{"vpcId": args.VpcID, "subnetIds": args.SubnetIDs, "clientSecurityGroupId": args.ClientSecurityGroupID, "kmsKeyArn": args.KMSKeyARN} {
		if in == nil {
			problems.Addf(field, "required")
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	d := &Postgres{DatabaseName: args.DatabaseName, MasterUsername: args.MasterUsername, Label: args.Identifier[strings.LastIndex(args.Identifier, "-")+1:]}
	if err := ctx.RegisterComponentResource(TypeToken, name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	t := args.Tags
	id := args.Identifier

	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.Sprintf("PostgreSQL %s: 5432 from the EKS nodes only", id),
		Tags:        tags.Named(t, id),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-from-nodes", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		Description:               pulumi.String("PostgreSQL from the EKS cluster's nodes"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(Port),
		ToPort:                    pulumi.Int(Port),
		ReferencedSecurityGroupId: args.ClientSecurityGroupID,
		Tags:                      tags.Named(t, id+"-from-nodes"),
	}, parent); err != nil {
		return nil, err
	}
	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Name:        pulumi.String(id),
		Description: pulumi.Sprintf("Database subnets of %s", id),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags.Named(t, id),
	}, parent)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		NamePrefix:  pulumi.String(id + "-"),
		Family:      pulumi.String("postgres" + cfg.MajorVersion()),
		Description: pulumi.Sprintf("%s: TLS required", id),
		Parameters: rds.ParameterGroupParameterArray{
			&rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1"), ApplyMethod: pulumi.String("pending-reboot")},
			&rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String("1000")},
		},
		Tags: tags.Named(t, id),
	}, parent)
	if err != nil {
		return nil, err
	}
	// RDS creates these groups with no retention; creating them first sets it.
	var logGroups []pulumi.Resource
	for _, l := range cfg.LogExports {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-"+l, &cloudwatch.LogGroupArgs{
			Name:            pulumi.Sprintf("/aws/rds/instance/%s/%s", id, l),
			RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
			Tags:            tags.Named(t, id+"-"+l),
		}, parent)
		if err != nil {
			return nil, err
		}
		logGroups = append(logGroups, g)
	}
	var monitoringRole pulumi.StringPtrInput
	if cfg.MonitoringIntervalSeconds > 0 {
		role, err := iam.NewRole(ctx, name+"-monitoring", &iam.RoleArgs{
			Description:      pulumi.Sprintf("Enhanced monitoring of RDS instance %s", id),
			AssumeRolePolicy: iampolicy.AssumeRoleForService("monitoring.rds.amazonaws.com").JSON(),
			Tags:             tags.Named(t, id+"-monitoring"),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := iam.NewRolePolicyAttachment(ctx, name+"-monitoring", &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
		}, parent); err != nil {
			return nil, err
		}
		monitoringRole = role.Arn
	}
	var piKey pulumi.StringPtrInput
	var piRetention pulumi.IntPtrInput
	if cfg.PerformanceInsights {
		piKey = args.KMSKeyARN
		piRetention = pulumi.Int(7)
	}
	protect := pulumi.Protect(cfg.Protect)
	// The final snapshot outlives the stack. RDS refuses a second snapshot
	// of the same name, so each generation of the stack names its own (the
	// random ID is deleted and made anew with the instance).
	gen, err := random.NewRandomId(ctx, name+"-generation", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, parent)
	if err != nil {
		return nil, err
	}
	d.Generation = gen.Hex
	primary, err := rds.NewInstance(ctx, name, &rds.InstanceArgs{
		Identifier:                         pulumi.String(id),
		Engine:                             pulumi.String("postgres"),
		EngineVersion:                      pulumi.String(cfg.EngineVersion),
		InstanceClass:                      pulumi.String(cfg.InstanceClass),
		DbName:                             pulumi.StringPtrFromPtr(dbName(args.DatabaseName)),
		Username:                           pulumi.String(args.MasterUsername),
		ManageMasterUserPassword:           pulumi.Bool(true),
		MasterUserSecretKmsKeyId:           args.KMSKeyARN,
		Port:                               pulumi.Int(Port),
		StorageType:                        pulumi.String("gp3"),
		AllocatedStorage:                   pulumi.Int(cfg.AllocatedStorageGiB),
		MaxAllocatedStorage:                pulumi.Int(cfg.MaxAllocatedStorageGiB),
		StorageEncrypted:                   pulumi.Bool(true),
		KmsKeyId:                           args.KMSKeyARN,
		DbSubnetGroupName:                  subnets.Name,
		VpcSecurityGroupIds:                pulumi.StringArray{sg.ID()},
		PubliclyAccessible:                 pulumi.Bool(false),
		ParameterGroupName:                 params.Name,
		MultiAz:                            pulumi.Bool(cfg.MultiAZ),
		BackupRetentionPeriod:              pulumi.Int(cfg.BackupRetentionDays),
		BackupWindow:                       pulumi.String("03:00-04:00"),
		MaintenanceWindow:                  pulumi.String("sun:04:30-sun:05:30"),
		CopyTagsToSnapshot:                 pulumi.Bool(true),
		DeletionProtection:                 pulumi.Bool(*cfg.DeletionProtection),
		SkipFinalSnapshot:                  pulumi.Bool(!*cfg.FinalSnapshot),
		FinalSnapshotIdentifier:            pulumi.Sprintf("%s-final-%s", id, gen.Hex),
		DeleteAutomatedBackups:             pulumi.Bool(false),
		EnabledCloudwatchLogsExports:       pulumi.ToStringArray(cfg.LogExports),
		PerformanceInsightsEnabled:         pulumi.Bool(cfg.PerformanceInsights),
		PerformanceInsightsKmsKeyId:        piKey,
		PerformanceInsightsRetentionPeriod: piRetention,
		MonitoringInterval:                 pulumi.Int(cfg.MonitoringIntervalSeconds),
		MonitoringRoleArn:                  monitoringRole,
		AutoMinorVersionUpgrade:            pulumi.Bool(true),
		AllowMajorVersionUpgrade:           pulumi.Bool(false),
		CaCertIdentifier:                   pulumi.String(CAIdentifier),
		IamDatabaseAuthenticationEnabled:   pulumi.Bool(false),
		Tags:                               tags.Named(t, id),
	}, parent, protect, pulumi.DependsOn(logGroups))
	if err != nil {
		return nil, err
	}
	d.ReplicaAddress = pulumi.String("").ToStringOutput()
	if cfg.ReadReplica {
		replica, err := rds.NewInstance(ctx, name+"-replica", &rds.InstanceArgs{
			Identifier:                  pulumi.String(id + "-replica"),
			ReplicateSourceDb:           primary.Identifier,
			InstanceClass:               pulumi.String(cfg.InstanceClass),
			StorageType:                 pulumi.String("gp3"),
			MaxAllocatedStorage:         pulumi.Int(cfg.MaxAllocatedStorageGiB),
			StorageEncrypted:            pulumi.Bool(true),
			KmsKeyId:                    args.KMSKeyARN,
			VpcSecurityGroupIds:         pulumi.StringArray{sg.ID()},
			PubliclyAccessible:          pulumi.Bool(false),
			ParameterGroupName:          params.Name,
			CopyTagsToSnapshot:          pulumi.Bool(true),
			DeletionProtection:          pulumi.Bool(*cfg.DeletionProtection),
			SkipFinalSnapshot:           pulumi.Bool(true), // replicas have no snapshots of their own
			PerformanceInsightsEnabled:  pulumi.Bool(cfg.PerformanceInsights),
			PerformanceInsightsKmsKeyId: piKey,
			MonitoringInterval:          pulumi.Int(cfg.MonitoringIntervalSeconds),
			MonitoringRoleArn:           monitoringRole,
			AutoMinorVersionUpgrade:     pulumi.Bool(true),
			CaCertIdentifier:            pulumi.String(CAIdentifier),
			Tags:                        tags.Named(t, id+"-replica"),
		}, parent, protect)
		if err != nil {
			return nil, err
		}
		d.ReplicaAddress = replica.Address
		d.ReplicaIdentifier = replica.Identifier
		d.HasReplica = true
	}
	d.Address = primary.Address
	d.AllocatedStorageGiB = float64(cfg.AllocatedStorageGiB)
	d.Port = primary.Port
	d.MasterSecretARN = primary.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	d.SecurityGroupID = sg.ID().ToStringOutput()
	d.Instance = primary
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address":         d.Address,
		"masterSecretArn": d.MasterSecretARN,
		"replicaAddress":  d.ReplicaAddress,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// dbName is the DBName of CreateDBInstance: nil for none.
func dbName(name string) *string {
	if name == "" {
		return nil
	}
	return &name
}

// NewUpgradeSnapshot takes a manual snapshot of db named after label (such
// as "airbyte-2.2.0"): make a release depend on it and the snapshot exists
// before the release is installed or upgraded. A new label (a new chart
// version) is a new snapshot, taken before the upgrade; snapshots of
// earlier labels are kept in AWS (retainOnDelete) for a restore. Each
// snapshot's identifier ends in a random ID made anew whenever the label
// changes, so neither a rollback to an earlier label nor a rebuilt stack
// collides with a snapshot kept from before.
func NewUpgradeSnapshot(ctx *pulumi.Context, name string, db *Postgres, label string, t map[string]string, opts ...pulumi.ResourceOption) (*rds.Snapshot, error) {
	safe := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, strings.ToLower(label))
	upgrade, err := random.NewRandomId(ctx, name+"-upgrade", &random.RandomIdArgs{
		ByteLength: pulumi.Int(4),
		Keepers:    pulumi.StringMap{"label": pulumi.String(label)},
	}, opts...)
	if err != nil {
		return nil, err
	}
	return rds.NewSnapshot(ctx, name+"-before-"+safe, &rds.SnapshotArgs{
		DbInstanceIdentifier: db.Instance.Identifier,
		DbSnapshotIdentifier: pulumi.Sprintf("%s-before-%s-%s", db.Instance.Identifier, safe, upgrade.Hex),
		Tags:                 tags.Named(t, "before "+label),
	}, append(opts, pulumi.RetainOnDelete(true), pulumi.DependsOn([]pulumi.Resource{db.Instance}))...)
}
