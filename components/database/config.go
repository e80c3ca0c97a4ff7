package database

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of each app's PostgreSQL instance (the
// stack config section dataplatform:database); see stackconfig.Database.
type Config = stackconfig.Database
