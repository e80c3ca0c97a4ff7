package stackconfig

import (
	"regexp"
	"slices"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Observability is the stack config section dataplatform:observability:
// where alarms go and when they fire, and how long container logs are kept.
// Metrics and logs flow through the CloudWatch Container Insights add-on
// (cluster.addons.cloudWatchObservability).
type Observability struct {
	// AlarmEmails subscribe to the alarm topic (each confirms by e-mail).
	AlarmEmails []string `json:"alarmEmails,omitempty"`
	// LogRetentionDays keeps container, node and performance logs. Default 30.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// Thresholds of the alarms.
	Alarms AlarmThresholds `json:"alarms,omitempty"`
}

// AlarmThresholds are when alarms fire.
type AlarmThresholds struct {
	// DatabaseCPUPercent: CPU above it for 15 minutes. Default 80.
	DatabaseCPUPercent int `json:"databaseCpuPercent,omitempty"`
	// DatabaseFreeStoragePercent: free storage below this share of the
	// allocated storage. Default 10.
	DatabaseFreeStoragePercent int `json:"databaseFreeStoragePercent,omitempty"`
	// DatabaseConnections: connections above it for 15 minutes. Default 150.
	DatabaseConnections int `json:"databaseConnections,omitempty"`
	// ReplicaLagSeconds: replica lag above it for 15 minutes. Default 300.
	ReplicaLagSeconds int `json:"replicaLagSeconds,omitempty"`
	// QueueAgeSeconds: the oldest interruption message older than this, so
	// Karpenter is not draining nodes ahead of interruptions. Default 300.
	QueueAgeSeconds int `json:"queueAgeSeconds,omitempty"`
}

// WithDefaults returns c with every unset field given its default.
func (c Observability) WithDefaults() Observability {
	if c.LogRetentionDays == 0 {
		c.LogRetentionDays = 30
	}
	a := &c.Alarms
	for _, d := range []struct {
		v   *int
		def int
	}{{&a.DatabaseCPUPercent, 80}, {&a.DatabaseFreeStoragePercent, 10}, {&a.DatabaseConnections, 150}, {&a.ReplicaLagSeconds, 300}, {&a.QueueAgeSeconds, 300}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	return c
}

var emailAddress = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)

// Validate reports every problem of a defaulted Observability.
func (c Observability) Validate() *validate.Problems {
	var p validate.Problems
	for i, e := range c.AlarmEmails {
		if !emailAddress.MatchString(e) {
			p.Addf(validate.Index("alarmEmails", i), "want an e-mail address, got %q", e)
		}
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		p.Addf("logRetentionDays", "want a period CloudWatch Logs accepts (%v), got %d", retentionDays, c.LogRetentionDays)
	}
	for field, v := range map[string][2]int{
		"alarms.databaseCpuPercent":         {c.Alarms.DatabaseCPUPercent, 100},
		"alarms.databaseFreeStoragePercent": {c.Alarms.DatabaseFreeStoragePercent, 100},
		"alarms.databaseConnections":        {c.Alarms.DatabaseConnections, 100000},
		"alarms.replicaLagSeconds":          {c.Alarms.ReplicaLagSeconds, 86400},
		"alarms.queueAgeSeconds":            {c.Alarms.QueueAgeSeconds, 86400},
	} {
		if v[0] < 1 || v[0] > v[1] {
			p.Addf(field, "want 1 to %d, got %d", v[1], v[0])
		}
	}
	return &p
}

// Images is the stack config section dataplatform:images: ECR repositories
// for the team's own images (Airflow task images).
type Images struct {
	// Repositories to create, such as "airflow-tasks". Default none.
	Repositories []string `json:"repositories,omitempty"`
	// KeepTaggedImages is how many tagged images each repository keeps. Default 50.
	KeepTaggedImages int `json:"keepTaggedImages,omitempty"`
	// ExpireUntaggedDays deletes untagged images after this many days. Default 7.
	ExpireUntaggedDays int `json:"expireUntaggedDays,omitempty"`
}

var repositoryName = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)

// WithDefaults returns c with every unset field given its default.
func (c Images) WithDefaults() Images {
	if c.KeepTaggedImages == 0 {
		c.KeepTaggedImages = 50
	}
	if c.ExpireUntaggedDays == 0 {
		c.ExpireUntaggedDays = 7
	}
	return c
}

// Validate reports every problem of a defaulted Images.
func (c Images) Validate() *validate.Problems {
	var p validate.Problems
	seen := map[string]bool{}
	for i, r := range c.Repositories {
		if !repositoryName.MatchString(r) || len(r) > 200 {
			p.Addf(validate.Index("repositories", i), "want an ECR repository name (lowercase letters, digits, . _ - and /), got %q", r)
		}
		if seen[r] {
			p.Addf(validate.Index("repositories", i), "repository %q is listed twice", r)
		}
		seen[r] = true
	}
	if c.KeepTaggedImages < 1 || c.KeepTaggedImages > 10000 {
		p.Addf("keepTaggedImages", "want 1 to 10000, got %d", c.KeepTaggedImages)
	}
	if c.ExpireUntaggedDays < 1 || c.ExpireUntaggedDays > 3650 {
		p.Addf("expireUntaggedDays", "want 1 to 3650, got %d", c.ExpireUntaggedDays)
	}
	return &p
}
