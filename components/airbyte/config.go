package airbyte

import "github.com/dataplatform/dataplatform/spec"

// Config is the plain configuration of Airbyte (dataplatform:apps.airbyte);
// see spec.Airbyte for every field and default.
type Config = spec.Airbyte

// JobResources are a job container's requests and limits.
type JobResources = spec.JobResources
