package secretsync

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of this component (dataplatform:apps.secretSync); see
// spec.SecretSync for every field and default.
type Config = spec.SecretSync
