package secrets

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of this component (the stack config section dataplatform:secrets); see
// stackconfig.Secrets for every field and default.
type Config = stackconfig.Secrets
