package storage_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/storage"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// A private, KMS-encrypted, TLS-only bucket whose "tmp/" objects expire.
func ExampleNewBucket() {
	program := func(ctx *pulumi.Context) error {
		b, err := storage.NewBucket(ctx, "exports", &storage.BucketArgs{
			Config:      storage.Config{LogExpirationDays: 7},
			BucketName:  "analytics-exports-123456789012",
			KMSKeyARN:   pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
			LogPrefixes: []string{"tmp/"},
		})
		if err != nil {
			return err
		}
		ctx.Export("bucketArn", b.ARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:s3/bucketV2:BucketV2"], counts["aws:s3/bucketPolicy:BucketPolicy"], counts["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"])
	// Output: <nil> 1 1 1
}
