package secretsync

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of this component (dataplatform:apps.secretSync); see
// stackconfig.SecretSync for every field and default.
type Config = stackconfig.SecretSync
