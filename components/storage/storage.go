// Package storage provides Bucket, an S3 bucket that is private, encrypted
// with a customer-managed KMS key, owned by its account (no ACLs), refuses
// requests not made over TLS, and keeps or expires data by config.
package storage

import (
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// TypeToken is the Pulumi type of the Bucket component.
const TypeToken = "dataplatform:storage:Bucket"

// BucketArgs are the inputs of NewBucket.
type BucketArgs struct {
	// Config sets versioning, expiry, forceDestroy and protection; see stackconfig.Storage.
	Config Config
	// BucketName is the globally unique bucket name. Required.
	BucketName string
	// KMSKeyARN is the customer-managed key objects are encrypted with. Required.
	KMSKeyARN pulumi.StringInput
	// LogPrefixes are the prefixes (such as "log/") whose objects expire
	// after Config.LogExpirationDays; "" means the whole bucket.
	LogPrefixes []string
	// Grants are further statements of the bucket's policy, made from its
	// ARN, such as a service's right to write to it.
	Grants func(bucketARN pulumi.StringOutput) []iampolicy.Statement
	Tags   map[string]string
}

// Bucket is a private, encrypted S3 bucket. Create it with NewBucket.
type Bucket struct {
	pulumi.ResourceState

	// Name is the bucket's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// ARN is the bucket's ARN; objects are ARN + "/*".
	ARN pulumi.StringOutput `pulumi:"arn"`
	// Ready is the last of the bucket's settings to be applied (its policy),
	// for DependsOn: once it exists, the bucket is private and TLS-only.
	Ready pulumi.Resource
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// NewBucket creates the bucket and its settings.
func NewBucket(ctx *pulumi.Context, name string, args *BucketArgs, opts ...pulumi.ResourceOption) (*Bucket, error) {
	if args == nil {
		args = &BucketArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if !bucketName.MatchString(args.BucketName) || strings.Contains(args.BucketName, "..") {
		problems.Addf("bucketName", "want 3 to 63 lowercase letters, digits, dots and hyphens, got %q", args.BucketName)
	}
	if args.KMSKeyARN == nil {
		problems.Addf("kmsKeyArn", "required: the key objects are encrypted with")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	b := &Bucket{}
	if err := ctx.RegisterComponentResource(TypeToken, name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)

	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket:       pulumi.String(args.BucketName),
		ForceDestroy: pulumi.Bool(cfg.ForceDestroy),
		Tags:         tags.Named(args.Tags, args.BucketName),
	}, parent, pulumi.Protect(cfg.Protect))
	if err != nil {
		return nil, err
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: args.KMSKeyARN,
			},
			// A bucket key cuts KMS requests (and their cost) by about 99%.
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, parent); err != nil {
		return nil, err
	}
	status := "Suspended"
	if *cfg.Versioning {
		status = "Enabled"
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String(status)},
	}, parent)
	if err != nil {
		return nil, err
	}
	rules := lifecycleRules(cfg, args.LogPrefixes)
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  rules,
	}, parent, pulumi.DependsOn([]pulumi.Resource{versioning})); err != nil {
		return nil, err
	}
	statements := []iampolicy.Statement{iampolicy.DenyInsecureTransport("s3:*", bucket.Arn, pulumi.Sprintf("%s/*", bucket.Arn))}
	if args.Grants != nil {
		statements = append(statements, args.Grants(bucket.Arn)...)
	}
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: iampolicy.Document{Statements: statements}.JSON(),
	}, parent, pulumi.DependsOn([]pulumi.Resource{pab}))
	if err != nil {
		return nil, err
	}
	b.Name = bucket.Bucket
	b.ARN = bucket.Arn
	b.Ready = policy
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"name": bucket.Bucket, "arn": bucket.Arn}); err != nil {
		return nil, err
	}
	return b, nil
}

// lifecycleRules abort incomplete uploads after 7 days, expire noncurrent
// versions, and expire the logs under each of logPrefixes.
func lifecycleRules(cfg Config, logPrefixes []string) s3.BucketLifecycleConfigurationV2RuleArray {
	rules := s3.BucketLifecycleConfigurationV2RuleArray{
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("abort-incomplete-uploads"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(7),
			},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(cfg.NoncurrentVersionExpirationDays),
			},
		},
	}
	for _, prefix := range logPrefixes {
		id := "expire-logs"
		if prefix != "" {
			id = "expire-" + strings.Trim(strings.ReplaceAll(prefix, "/", "-"), "-")
		}
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String(id),
			Status:     pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(prefix)},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(cfg.LogExpirationDays)},
		})
	}
	return rules
}
