package ingress

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of this component (dataplatform:apps.ingress); see
// spec.Ingress for every field and default.
type Config = spec.Ingress
