package storage

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of this component (the stack config section dataplatform:storage); see
// spec.Storage for every field and default.
type Config = spec.Storage
