package airflow

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of Airflow (dataplatform:apps.airflow);
// see spec.Airflow for every field and default.
type Config = spec.Airflow

// Parts of Config.
type (
	Admin         = spec.AirflowAdmin
	GitSyncConfig = spec.GitSync
)
