package airflow

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of Airflow (dataplatform:apps.airflow);
// see stackconfig.Airflow for every field and default.
type Config = stackconfig.Airflow

// Parts of Config.
type (
	Admin         = stackconfig.AirflowAdmin
	GitSyncConfig = stackconfig.GitSync
)
