package storage

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of this component (the stack config section dataplatform:storage); see
// stackconfig.Storage for every field and default.
type Config = stackconfig.Storage
