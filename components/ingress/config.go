package ingress

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of this component (dataplatform:apps.ingress); see
// stackconfig.Ingress for every field and default.
type Config = stackconfig.Ingress
