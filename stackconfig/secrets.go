package stackconfig

import "github.com/dataplatform/dataplatform/internal/validate"

// Secrets is the stack config section `dataplatform:secrets`.
type Secrets struct {
	// RecoveryWindowDays is how long a deleted secret can be restored, 7 to
	// 30 days, or 0 to delete at once (dev only). Default 30.
	RecoveryWindowDays *int `json:"recoveryWindowDays,omitempty"`
	// KeyDeletionWindowDays is the waiting period before the KMS key is
	// deleted, 7 to 30 days. Default 30.
	KeyDeletionWindowDays int `json:"keyDeletionWindowDays,omitempty"`
	// Protect guards the key against `pulumi destroy`. Set it in production.
	Protect bool `json:"protect,omitempty"`
}

// WithDefaults returns c with every unset field given its default.
func (c Secrets) WithDefaults() Secrets {
	if c.RecoveryWindowDays == nil {
		d := 30
		c.RecoveryWindowDays = &d
	}
	if c.KeyDeletionWindowDays == 0 {
		c.KeyDeletionWindowDays = 30
	}
	return c
}

// Validate reports every problem of a defaulted Secrets.
func (c Secrets) Validate() *validate.Problems {
	var p validate.Problems
	if w := *c.RecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		p.Addf("recoveryWindowDays", "want 0 (delete at once) or 7 to 30 days, got %d", w)
	}
	if c.KeyDeletionWindowDays < 7 || c.KeyDeletionWindowDays > 30 {
		p.Addf("keyDeletionWindowDays", "want 7 to 30 days, got %d", c.KeyDeletionWindowDays)
	}
	return &p
}
