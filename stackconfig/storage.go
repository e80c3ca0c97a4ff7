package stackconfig

import "github.com/dataplatform/dataplatform/internal/validate"

// Storage is the stack config section `dataplatform:storage`; it applies to
// every bucket of the platform.
type Storage struct {
	// Versioning keeps old versions of overwritten and deleted objects. Default true.
	Versioning *bool `json:"versioning,omitempty"`
	// NoncurrentVersionExpirationDays deletes old versions after this many
	// days. Default 30.
	NoncurrentVersionExpirationDays int `json:"noncurrentVersionExpirationDays,omitempty"`
	// LogExpirationDays deletes log objects (each bucket says which prefixes
	// hold logs) after this many days. Default 90; 0 keeps them forever is
	// not allowed: logs grow without bound.
	LogExpirationDays int `json:"logExpirationDays,omitempty"`
	// ForceDestroy lets `pulumi destroy` delete buckets that still hold
	// objects. Default false; for throwaway (dev) stacks only.
	ForceDestroy bool `json:"forceDestroy,omitempty"`
	// Protect guards the buckets against `pulumi destroy`. Set it in production.
	Protect bool `json:"protect,omitempty"`
}

// WithDefaults returns c with every unset field given its default.
func (c Storage) WithDefaults() Storage {
	if c.Versioning == nil {
		on := true
		c.Versioning = &on
	}
	if c.NoncurrentVersionExpirationDays == 0 {
		c.NoncurrentVersionExpirationDays = 30
	}
	if c.LogExpirationDays == 0 {
		c.LogExpirationDays = 90
	}
	return c
}

// Validate reports every problem of a defaulted Storage.
func (c Storage) Validate() *validate.Problems {
	var p validate.Problems
	if c.NoncurrentVersionExpirationDays < 1 || c.NoncurrentVersionExpirationDays > 3650 {
		p.Addf("noncurrentVersionExpirationDays", "want 1 to 3650 days, got %d", c.NoncurrentVersionExpirationDays)
	}
	if c.LogExpirationDays < 1 || c.LogExpirationDays > 3650 {
		p.Addf("logExpirationDays", "want 1 to 3650 days, got %d", c.LogExpirationDays)
	}
	if c.ForceDestroy && c.Protect {
		p.Addf("forceDestroy", "true together with protect: a protected bucket is never destroyed; choose one")
	}
	return &p
}
