package airbyte

import "github.com/dataplatform/dataplatform/stackconfig"

// Config is the plain configuration of Airbyte (dataplatform:apps.airbyte);
// see stackconfig.Airbyte for every field and default.
type Config = stackconfig.Airbyte

// JobResources are a job container's requests and limits.
type JobResources = stackconfig.JobResources
