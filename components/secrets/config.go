package secrets

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of this component (the stack config section dataplatform:secrets); see
// spec.Secrets for every field and default.
type Config = spec.Secrets
