package database

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of each app's PostgreSQL instance (the
// stack config section dataplatform:database); see spec.Database.
type Config = spec.Database
