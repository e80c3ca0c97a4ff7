package stackconfig

import (
	"regexp"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// SecretSync is the stack config of the operator (dataplatform:apps.secretSync).
type SecretSync struct {
	// ChartVersion pins the external-secrets chart, such as "2.9.0". Required.
	ChartVersion string `json:"chartVersion,omitempty"`
	// RefreshInterval is how often secrets are read again, so that a rotated
	// database password reaches the cluster. Default "15m".
	RefreshInterval string `json:"refreshInterval,omitempty"`
	// Replicas of the operator. Default 1.
	Replicas int `json:"replicas,omitempty"`
}

var (
	syncDuration = regexp.MustCompile(`^([0-9]+(s|m|h))+$`)
)

// WithDefaults returns c with every unset field given its default.
func (c SecretSync) WithDefaults() SecretSync {
	if c.RefreshInterval == "" {
		c.RefreshInterval = "15m"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	return c
}

// Validate reports every problem of a defaulted SecretSync.
func (c SecretSync) Validate() *validate.Problems {
	var p validate.Problems
	if !semver.MatchString(c.ChartVersion) {
		p.Addf("chartVersion", "required: a chart version such as \"2.9.0\", got %q", c.ChartVersion)
	}
	if !syncDuration.MatchString(c.RefreshInterval) {
		p.Addf("refreshInterval", "want a syncDuration such as \"15m\" or \"1h\", got %q", c.RefreshInterval)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		p.Addf("replicas", "want 1 to 5, got %d", c.Replicas)
	}
	return &p
}
