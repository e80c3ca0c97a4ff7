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
	"github.com/dataplatform/dataplatform/internal/validate"
)

// TypeToken is the Pulumi type of the Postgres component.
const TypeToken = "dataplatform:database:Postgres"

// Port is the port PostgreSQL listens on.
const Port = 5432

// PostgresArgs are the inputs of NewPostgres.
type PostgresArgs struct {
	// Config decides the instance's size and safety; see stackconfig.Database for defaults.
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
	if err := validatePostgres(cfg, args).Err(); err != nil {
		return nil, err
	}
	d := &Postgres{DatabaseName: args.DatabaseName, MasterUsername: args.MasterUsername, Label: args.Identifier[strings.LastIndex(args.Identifier, "-")+1:]}
	if err := ctx.RegisterComponentResource(TypeToken, name, d, opts...); err != nil {
		return nil, err
	}
	b := &pgBuild{ctx: ctx, name: name, id: args.Identifier, cfg: cfg, args: args, d: d, parent: pulumi.Parent(d), t: args.Tags}
	for _, step := range []func() error{b.network, b.parameters, b.logs, b.monitoring, b.instance, b.replica} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	primary := b.primary
	d.Address = primary.Address
	d.AllocatedStorageGiB = float64(cfg.AllocatedStorageGiB)
	d.Port = primary.Port
	d.MasterSecretARN = primary.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	d.SecurityGroupID = b.sg.ID().ToStringOutput()
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

// validatePostgres reports every problem of cfg and args at once.
func validatePostgres(cfg Config, args *PostgresArgs) *validate.Problems {
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
	return problems
}

// pgBuild is NewPostgres's work in named steps.
type pgBuild struct {
	ctx      *pulumi.Context
	name, id string
	cfg      Config
	args     *PostgresArgs
	d        *Postgres
	parent   pulumi.ResourceOption
	t        map[string]string

	sg             *ec2.SecurityGroup
	subnets        *rds.SubnetGroup
	params         *rds.ParameterGroup
	logGroups      []pulumi.Resource
	monitoringRole pulumi.StringPtrInput
	piKey          pulumi.StringPtrInput
	primary        *rds.Instance
}

// network makes the instance's security group (5432 from the nodes only)
// and its subnet group.
func (b *pgBuild) network() error {
	var err error
	b.sg, err = ec2.NewSecurityGroup(b.ctx, b.name, &ec2.SecurityGroupArgs{
		VpcId:       b.args.VpcID,
		Description: pulumi.Sprintf("PostgreSQL %s: 5432 from the EKS nodes only", b.id),
		Tags:        tags.Named(b.t, b.id),
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := vpc.NewSecurityGroupIngressRule(b.ctx, b.name+"-from-nodes", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           b.sg.ID(),
		Description:               pulumi.String("PostgreSQL from the EKS cluster's nodes"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(Port),
		ToPort:                    pulumi.Int(Port),
		ReferencedSecurityGroupId: b.args.ClientSecurityGroupID,
		Tags:                      tags.Named(b.t, b.id+"-from-nodes"),
	}, b.parent); err != nil {
		return err
	}
	b.subnets, err = rds.NewSubnetGroup(b.ctx, b.name, &rds.SubnetGroupArgs{
		Name:        pulumi.String(b.id),
		Description: pulumi.Sprintf("Database subnets of %s", b.id),
		SubnetIds:   b.args.SubnetIDs,
		Tags:        tags.Named(b.t, b.id),
	}, b.parent)
	if err != nil {
		return err
	}
	return nil
}

// parameters makes the parameter group: TLS required, slow statements logged.
func (b *pgBuild) parameters() error {
	var err error
	b.params, err = rds.NewParameterGroup(b.ctx, b.name, &rds.ParameterGroupArgs{
		NamePrefix:  pulumi.String(b.id + "-"),
		Family:      pulumi.String("postgres" + b.cfg.MajorVersion()),
		Description: pulumi.Sprintf("%s: TLS required", b.id),
		Parameters: rds.ParameterGroupParameterArray{
			&rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1"), ApplyMethod: pulumi.String("pending-reboot")},
			&rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String("1000")},
		},
		Tags: tags.Named(b.t, b.id),
	}, b.parent)
	if err != nil {
		return err
	}
	return nil
}

// logs makes the log groups of the exported logs.
func (b *pgBuild) logs() error {
	// RDS creates these groups with no retention; creating them first sets it.
	for _, l := range b.cfg.LogExports {
		g, err := cloudwatch.NewLogGroup(b.ctx, b.name+"-"+l, &cloudwatch.LogGroupArgs{
			Name:            pulumi.Sprintf("/aws/rds/instance/%s/%s", b.id, l),
			RetentionInDays: pulumi.Int(b.cfg.LogRetentionDays),
			Tags:            tags.Named(b.t, b.id+"-"+l),
		}, b.parent)
		if err != nil {
			return err
		}
		b.logGroups = append(b.logGroups, g)
	}
	return nil
}

// monitoring makes the enhanced monitoring role, when monitoring is on.
func (b *pgBuild) monitoring() error {
	if b.cfg.MonitoringIntervalSeconds > 0 {
		role, err := iam.NewRole(b.ctx, b.name+"-monitoring", &iam.RoleArgs{
			Description:      pulumi.Sprintf("Enhanced monitoring of RDS instance %s", b.id),
			AssumeRolePolicy: iampolicy.AssumeRoleForService("monitoring.rds.amazonaws.com").JSON(),
			Tags:             tags.Named(b.t, b.id+"-monitoring"),
		}, b.parent)
		if err != nil {
			return err
		}
		if _, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-monitoring", &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
		}, b.parent); err != nil {
			return err
		}
		b.monitoringRole = role.Arn
	}
	return nil
}

// instance makes the primary.
func (b *pgBuild) instance() error {
	var err error
	var piRetention pulumi.IntPtrInput
	if b.cfg.PerformanceInsights {
		b.piKey = b.args.KMSKeyARN
		piRetention = pulumi.Int(7)
	}
	protect := pulumi.Protect(b.cfg.Protect)
	// The final snapshot outlives the stack. RDS refuses a second snapshot
	// of the same name, so each generation of the stack names its own (the
	// random ID is deleted and made anew with the instance).
	gen, err := random.NewRandomId(b.ctx, b.name+"-generation", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, b.parent)
	if err != nil {
		return err
	}
	b.d.Generation = gen.Hex
	b.primary, err = rds.NewInstance(b.ctx, b.name, &rds.InstanceArgs{
		Identifier:                         pulumi.String(b.id),
		Engine:                             pulumi.String("postgres"),
		EngineVersion:                      pulumi.String(b.cfg.EngineVersion),
		InstanceClass:                      pulumi.String(b.cfg.InstanceClass),
		DbName:                             pulumi.StringPtrFromPtr(dbName(b.args.DatabaseName)),
		Username:                           pulumi.String(b.args.MasterUsername),
		ManageMasterUserPassword:           pulumi.Bool(true),
		MasterUserSecretKmsKeyId:           b.args.KMSKeyARN,
		Port:                               pulumi.Int(Port),
		StorageType:                        pulumi.String("gp3"),
		AllocatedStorage:                   pulumi.Int(b.cfg.AllocatedStorageGiB),
		MaxAllocatedStorage:                pulumi.Int(b.cfg.MaxAllocatedStorageGiB),
		StorageEncrypted:                   pulumi.Bool(true),
		KmsKeyId:                           b.args.KMSKeyARN,
		DbSubnetGroupName:                  b.subnets.Name,
		VpcSecurityGroupIds:                pulumi.StringArray{b.sg.ID()},
		PubliclyAccessible:                 pulumi.Bool(false),
		ParameterGroupName:                 b.params.Name,
		MultiAz:                            pulumi.Bool(b.cfg.MultiAZ),
		BackupRetentionPeriod:              pulumi.Int(b.cfg.BackupRetentionDays),
		BackupWindow:                       pulumi.String("03:00-04:00"),
		MaintenanceWindow:                  pulumi.String("sun:04:30-sun:05:30"),
		CopyTagsToSnapshot:                 pulumi.Bool(true),
		DeletionProtection:                 pulumi.Bool(*b.cfg.DeletionProtection),
		SkipFinalSnapshot:                  pulumi.Bool(!*b.cfg.FinalSnapshot),
		FinalSnapshotIdentifier:            pulumi.Sprintf("%s-final-%s", b.id, gen.Hex),
		DeleteAutomatedBackups:             pulumi.Bool(false),
		EnabledCloudwatchLogsExports:       pulumi.ToStringArray(b.cfg.LogExports),
		PerformanceInsightsEnabled:         pulumi.Bool(b.cfg.PerformanceInsights),
		PerformanceInsightsKmsKeyId:        b.piKey,
		PerformanceInsightsRetentionPeriod: piRetention,
		MonitoringInterval:                 pulumi.Int(b.cfg.MonitoringIntervalSeconds),
		MonitoringRoleArn:                  b.monitoringRole,
		AutoMinorVersionUpgrade:            pulumi.Bool(true),
		AllowMajorVersionUpgrade:           pulumi.Bool(false),
		CaCertIdentifier:                   pulumi.String(CAIdentifier),
		IamDatabaseAuthenticationEnabled:   pulumi.Bool(false),
		Tags:                               tags.Named(b.t, b.id),
	}, b.parent, protect, pulumi.DependsOn(b.logGroups))
	if err != nil {
		return err
	}
	return nil
}

// replica makes the read replica, when configured.
func (b *pgBuild) replica() error {
	b.d.ReplicaAddress = pulumi.String("").ToStringOutput()
	if b.cfg.ReadReplica {
		replica, err := rds.NewInstance(b.ctx, b.name+"-replica", &rds.InstanceArgs{
			Identifier:                  pulumi.String(b.id + "-replica"),
			ReplicateSourceDb:           b.primary.Identifier,
			InstanceClass:               pulumi.String(b.cfg.InstanceClass),
			StorageType:                 pulumi.String("gp3"),
			MaxAllocatedStorage:         pulumi.Int(b.cfg.MaxAllocatedStorageGiB),
			StorageEncrypted:            pulumi.Bool(true),
			KmsKeyId:                    b.args.KMSKeyARN,
			VpcSecurityGroupIds:         pulumi.StringArray{b.sg.ID()},
			PubliclyAccessible:          pulumi.Bool(false),
			ParameterGroupName:          b.params.Name,
			CopyTagsToSnapshot:          pulumi.Bool(true),
			DeletionProtection:          pulumi.Bool(*b.cfg.DeletionProtection),
			SkipFinalSnapshot:           pulumi.Bool(true), // replicas have no snapshots of their own
			PerformanceInsightsEnabled:  pulumi.Bool(b.cfg.PerformanceInsights),
			PerformanceInsightsKmsKeyId: b.piKey,
			MonitoringInterval:          pulumi.Int(b.cfg.MonitoringIntervalSeconds),
			MonitoringRoleArn:           b.monitoringRole,
			AutoMinorVersionUpgrade:     pulumi.Bool(true),
			CaCertIdentifier:            pulumi.String(CAIdentifier),
			Tags:                        tags.Named(b.t, b.id+"-replica"),
		}, b.parent, pulumi.Protect(b.cfg.Protect))
		if err != nil {
			return err
		}
		b.d.ReplicaAddress = replica.Address
		b.d.ReplicaIdentifier = replica.Identifier
		b.d.HasReplica = true
	}
	return nil
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
