// Package images provides Repositories: ECR repositories for the team's own
// images (such as Airflow task images), scanned on push, with immutable
// tags, a lifecycle policy and encryption under the platform key. Nodes pull
// from them through their node role (AmazonEC2ContainerRegistryReadOnly).
package images

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// TypeToken is the Pulumi type of the Repositories component.
const TypeToken = "dataplatform:images:Repositories"

// Config is the plain configuration (dataplatform:images); see stackconfig.Images.
type Config = stackconfig.Images

// RepositoriesArgs are the inputs of NewRepositories.
type RepositoriesArgs struct {
	// Config lists the repositories and their lifecycle; see stackconfig.Images.
	Config Config
	// Prefix starts every repository's name ("<prefix>/<name>"); use the platform's name.
	Prefix string
	// KMSKeyARN encrypts the images. Required.
	KMSKeyARN pulumi.StringInput
	// Protect guards the repositories against `pulumi destroy`.
	Protect bool
	Tags    map[string]string
}

// Repositories are the created repositories.
type Repositories struct {
	pulumi.ResourceState

	// URLs are the repositories' URLs, by configured name.
	URLs map[string]pulumi.StringOutput
}

// NewRepositories creates one repository per configured name.
func NewRepositories(ctx *pulumi.Context, name string, args *RepositoriesArgs, opts ...pulumi.ResourceOption) (*Repositories, error) {
	cfg := args.Config.WithDefaults()
	if err := cfg.Validate().Err(); err != nil {
		return nil, err
	}
	r := &Repositories{URLs: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	lifecycle, err := json.Marshal(map[string]any{"rules": []any{
		map[string]any{
			"rulePriority": 1,
			"description":  "Expire untagged images",
			"selection":    map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": cfg.ExpireUntaggedDays},
			"action":       map[string]any{"type": "expire"},
		},
		map[string]any{
			"rulePriority": 2,
			"description":  "Keep the newest tagged images",
			"selection":    map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": cfg.KeepTaggedImages},
			"action":       map[string]any{"type": "expire"},
		},
	}})
	if err != nil {
		return nil, err
	}
	exported := pulumi.Map{}
	for _, repo := range cfg.Repositories {
		full := args.Prefix + "/" + repo
		res, err := ecr.NewRepository(ctx, name+"-"+repo, &ecr.RepositoryArgs{
			Name:                       pulumi.String(full),
			ImageTagMutability:         pulumi.String("IMMUTABLE"),
			ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
			EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{&ecr.RepositoryEncryptionConfigurationArgs{
				EncryptionType: pulumi.String("KMS"),
				KmsKey:         args.KMSKeyARN,
			}},
			Tags: tags.Named(args.Tags, full),
		}, parent, pulumi.Protect(args.Protect))
		if err != nil {
			return nil, err
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-"+repo, &ecr.LifecyclePolicyArgs{
			Repository: res.Name,
			Policy:     pulumi.String(string(lifecycle)),
		}, parent); err != nil {
			return nil, err
		}
		r.URLs[repo] = res.RepositoryUrl
		exported[repo] = res.RepositoryUrl
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"urls": exported}); err != nil {
		return nil, err
	}
	return r, nil
}
