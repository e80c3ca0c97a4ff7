package stackconfig

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Database is the stack config section `dataplatform:database`. It applies to
// each app's PostgreSQL instance. Zero values mean "use the default".
type Database struct {
	// EngineVersion is the PostgreSQL major version, such as "17". Required:
	// a major upgrade is a one-line change that `pulumi preview` shows. RDS
	// applies minor upgrades itself in the maintenance window, and the
	// provider accepts any actual version that starts with this one, so a
	// minor version ("17.6") is refused: after RDS moved to 17.7, the next
	// `pulumi up` would try to downgrade.
	EngineVersion string `json:"engineVersion,omitempty"`
	// InstanceClass is the RDS instance class. Default "db.t4g.micro".
	InstanceClass string `json:"instanceClass,omitempty"`
	// AllocatedStorageGiB is the initial gp3 storage. Default 20.
	AllocatedStorageGiB int `json:"allocatedStorageGiB,omitempty"`
	// MaxAllocatedStorageGiB is the ceiling of storage autoscaling. Default 100.
	MaxAllocatedStorageGiB int `json:"maxAllocatedStorageGiB,omitempty"`
	// BackupRetentionDays keeps automated backups this long, 1 to 35. Default 7.
	BackupRetentionDays int `json:"backupRetentionDays,omitempty"`
	// MultiAZ keeps a synchronous standby in another zone. Default false.
	MultiAZ bool `json:"multiAz,omitempty"`
	// ReadReplica adds an asynchronous read replica. Default false.
	ReadReplica bool `json:"readReplica,omitempty"`
	// DeletionProtection refuses deletion through the AWS API. Default true.
	DeletionProtection *bool `json:"deletionProtection,omitempty"`
	// FinalSnapshot takes a snapshot when the instance is deleted. Default true.
	FinalSnapshot *bool `json:"finalSnapshot,omitempty"`
	// Protect guards the instances against `pulumi destroy`. Set it in production.
	Protect bool `json:"protect,omitempty"`
	// PerformanceInsights turns on Performance Insights (7 days, free tier).
	PerformanceInsights bool `json:"performanceInsights,omitempty"`
	// MonitoringIntervalSeconds turns on enhanced monitoring: 0 (off), 1, 5,
	// 10, 15, 30 or 60. Default 0.
	MonitoringIntervalSeconds int `json:"monitoringIntervalSeconds,omitempty"`
	// LogExports are the logs sent to CloudWatch Logs: "postgresql",
	// "upgrade" or both. Default both.
	LogExports []string `json:"logExports,omitempty"`
	// SnapshotBeforeUpgrade takes a manual snapshot of each app's database
	// before its chart is installed or upgraded (Airbyte's migrations are
	// one-way). Default true.
	SnapshotBeforeUpgrade *bool `json:"snapshotBeforeUpgrade,omitempty"`
	// LogRetentionDays is how long those logs are kept. Default 30.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// CABundleFile is the file (relative to the project directory) holding
	// the RDS certificate authorities of the stack's region, which every
	// database client verifies the server against. Default
	// rds-ca-bundles/<region>-bundle.pem. `pulumi preview` and `pulumi up`
	// only read it: fetch it once with `go run ./cmd/rds-ca -region
	// <region>`, which checks its subjects and expiry, commit it, and
	// refresh it the same way on purpose (rds-ca-bundles/README.md).
	CABundleFile string `json:"caBundleFile,omitempty"`
	// SharedInstance puts both apps' databases in one RDS instance instead
	// of one instance each: half the instances, alarms and master secrets.
	// Each app keeps its own database (made by the login job), owner role,
	// logins and credentials, and no other app's login may connect to it;
	// what they share is the instance's capacity, maintenance and fate. For
	// dev. Switching it on a deployed stack replaces the instances: the
	// data stays only in their final snapshots. Default false.
	SharedInstance bool `json:"sharedInstance,omitempty"`
	// LoginGeneration rotates the apps' own database logins (the apps never
	// use the RDS master user): raise it by one and `pulumi up` gives the
	// standby login a new password and moves every app pod to it, while the
	// login in use until then keeps working. Default 1.
	LoginGeneration int `json:"loginGeneration,omitempty"`
}

var (
	engineVersion = regexp.MustCompile(`^(1[3-8])(\.\d+)?$`)
	majorVersion  = regexp.MustCompile(`^1[3-8]$`)
	instanceClass = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
)

// WithDefaults returns c with every unset field given its default.
func (c Database) WithDefaults() Database {
	if c.InstanceClass == "" {
		c.InstanceClass = "db.t4g.micro"
	}
	if c.AllocatedStorageGiB == 0 {
		c.AllocatedStorageGiB = 20
	}
	if c.MaxAllocatedStorageGiB == 0 {
		c.MaxAllocatedStorageGiB = max(100, c.AllocatedStorageGiB)
	}
	if c.BackupRetentionDays == 0 {
		c.BackupRetentionDays = 7
	}
	on := true
	if c.DeletionProtection == nil {
		c.DeletionProtection = &on
	}
	if c.FinalSnapshot == nil {
		c.FinalSnapshot = &on
	}
	if c.LogExports == nil {
		c.LogExports = []string{"postgresql", "upgrade"}
	}
	if c.LogRetentionDays == 0 {
		c.LogRetentionDays = 30
	}
	if c.SnapshotBeforeUpgrade == nil {
		c.SnapshotBeforeUpgrade = &on
	}
	if c.LoginGeneration == 0 {
		c.LoginGeneration = 1
	}
	return c
}

// MajorVersion is the engine's major version ("17" of "17.6").
func (c Database) MajorVersion() string {
	if m := engineVersion.FindStringSubmatch(c.EngineVersion); m != nil {
		return m[1]
	}
	return ""
}

// Validate reports every problem of a defaulted Database.
func (c Database) Validate() *validate.Problems {
	var p validate.Problems
	switch {
	case c.EngineVersion == "":
		p.Addf("engineVersion", "required: the PostgreSQL major version, such as \"17\"")
	case engineVersion.MatchString(c.EngineVersion) && !majorVersion.MatchString(c.EngineVersion):
		major, _, _ := strings.Cut(c.EngineVersion, ".")
		p.Addf("engineVersion", "want the major version only, %q, got %q: RDS applies minor upgrades itself, and a pinned minor version would make the next `pulumi up` try to downgrade", major, c.EngineVersion)
	case !majorVersion.MatchString(c.EngineVersion):
		p.Addf("engineVersion", "want a PostgreSQL major version from 13 to 18, such as \"17\", got %q", c.EngineVersion)
	}
	if c.LoginGeneration < 1 {
		p.Addf("loginGeneration", "want 1 or more (raise it by one to rotate the apps' logins), got %d", c.LoginGeneration)
	}
	if !instanceClass.MatchString(c.InstanceClass) {
		p.Addf("instanceClass", "want an RDS instance class such as \"db.t4g.micro\", got %q", c.InstanceClass)
	}
	if c.AllocatedStorageGiB < 20 || c.AllocatedStorageGiB > 65536 {
		p.Addf("allocatedStorageGiB", "want 20 to 65536 GiB (gp3), got %d", c.AllocatedStorageGiB)
	}
	if c.MaxAllocatedStorageGiB < c.AllocatedStorageGiB {
		p.Addf("maxAllocatedStorageGiB", "want at least allocatedStorageGiB (%d), got %d", c.AllocatedStorageGiB, c.MaxAllocatedStorageGiB)
	}
	if c.BackupRetentionDays < 1 || c.BackupRetentionDays > 35 {
		p.Addf("backupRetentionDays", "want 1 to 35 days (0 would turn backups off), got %d", c.BackupRetentionDays)
	}
	if c.ReadReplica && c.BackupRetentionDays < 1 {
		p.Addf("readReplica", "a read replica needs backups on")
	}
	if !slices.Contains([]int{0, 1, 5, 10, 15, 30, 60}, c.MonitoringIntervalSeconds) {
		p.Addf("monitoringIntervalSeconds", "want 0, 1, 5, 10, 15, 30 or 60, got %d", c.MonitoringIntervalSeconds)
	}
	for i, l := range c.LogExports {
		if l != "postgresql" && l != "upgrade" {
			p.Addf(validate.Index("logExports", i), "want %s, got %q", validate.OneOf("postgresql", "upgrade"), l)
		}
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		p.Addf("logRetentionDays", "want a period CloudWatch Logs accepts (%v), got %d", retentionDays, c.LogRetentionDays)
	}
	if c.Protect && !*c.DeletionProtection {
		p.Addf("deletionProtection", "false while protect is true: protect the instance in AWS too")
	}
	return &p
}
