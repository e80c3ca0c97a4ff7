package images_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/images"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Two repositories for the team's task images.
func ExampleNewRepositories() {
	program := func(ctx *pulumi.Context) error {
		r, err := images.NewRepositories(ctx, "images", &images.RepositoriesArgs{
			Config:    images.Config{Repositories: []string{"airflow-tasks", "dbt"}},
			Prefix:    "analytics",
			KMSKeyARN: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		})
		if err != nil {
			return err
		}
		ctx.Export("dbt", r.URLs["dbt"])
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:ecr/repository:Repository"], counts["aws:ecr/lifecyclePolicy:LifecyclePolicy"])
	// Output: <nil> 2 2
}
