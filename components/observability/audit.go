package observability

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/storage"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/tags"
)

// AuditTypeToken is the Pulumi type of the AuditTrail component.
const AuditTypeToken = "dataplatform:observability:AuditTrail"

// AuditTrailArgs are the inputs of NewAuditTrail.
type AuditTrailArgs struct {
	// Platform names the trail ("<platform>-audit") and its bucket
	// ("<platform>-audit-<account>"). Required.
	Platform string
	// Region and AccountID are the trail's. Required.
	Region, AccountID string
	// DataBucketARNs are the buckets whose object reads and writes are
	// recorded (S3 data events): where synced data and logs live. Required.
	DataBucketARNs []pulumi.StringInput
	// KMSKeyARN encrypts the log files; its key policy must let CloudTrail
	// use it (secrets.Secrets's platform key does). Required.
	KMSKeyARN pulumi.StringInput
	// Storage sets the log bucket's versioning, protection and how long log
	// files are kept (LogExpirationDays).
	Storage storage.Config
	Tags    map[string]string
}

// AuditTrail records who read what: every management event of the region
// (Secrets Manager's GetSecretValue included) and every object read and
// write of the data buckets, into an encrypted bucket of its own, with log
// file validation.
type AuditTrail struct {
	pulumi.ResourceState

	// Trail is the CloudTrail trail.
	Trail *cloudtrail.Trail
	// Bucket holds the log files.
	Bucket *storage.Bucket
}

// NewAuditTrail creates the trail and its bucket.
func NewAuditTrail(ctx *pulumi.Context, name string, args *AuditTrailArgs, opts ...pulumi.ResourceOption) (*AuditTrail, error) {
	if args == nil || args.Platform == "" || args.Region == "" || args.AccountID == "" || args.KMSKeyARN == nil || len(args.DataBucketARNs) == 0 {
		return nil, fmt.Errorf("audit trail %s: platform, region, accountId, kmsKeyArn and dataBucketArns are required", name)
	}
	a := &AuditTrail{}
	if err := ctx.RegisterComponentResource(AuditTypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	trailName := args.Platform + "-audit"
	// The trail's ARN is known before it exists: CreateTrail checks that
	// the bucket policy already admits it (CloudTrail user guide, "Amazon
	// S3 bucket policy for CloudTrail").
	trailARN := pulumi.String(fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", args.Region, args.AccountID, trailName))
	fromTrail := iampolicy.Condition{Test: "StringEquals", Variable: pulumi.String("aws:SourceArn"), Values: iampolicy.Inputs(trailARN)}
	cloudTrail := []iampolicy.Principal{{Type: "Service", Identifiers: iampolicy.Strings("cloudtrail.amazonaws.com")}}
	bucket, err := storage.NewBucket(ctx, name+"-bucket", &storage.BucketArgs{
		Config:      args.Storage,
		BucketName:  fmt.Sprintf("%s-audit-%s", args.Platform, args.AccountID),
		KMSKeyARN:   args.KMSKeyARN,
		LogPrefixes: []string{""},
		Grants: func(arn pulumi.StringOutput) []iampolicy.Statement {
			return []iampolicy.Statement{
				{Sid: "CloudTrailChecksTheBucket", Principals: cloudTrail, Actions: []string{"s3:GetBucketAcl"},
					Resources: iampolicy.Inputs(arn), Conditions: []iampolicy.Condition{fromTrail}},
				{Sid: "CloudTrailWritesLogFiles", Principals: cloudTrail, Actions: []string{"s3:PutObject"},
					Resources: iampolicy.Inputs(pulumi.Sprintf("%s/AWSLogs/%s/*", arn, args.AccountID)),
					Conditions: []iampolicy.Condition{fromTrail,
						{Test: "StringEquals", Variable: pulumi.String("s3:x-amz-acl"), Values: iampolicy.Strings("bucket-owner-full-control")}}},
			}
		},
		Tags: args.Tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	a.Bucket = bucket
	var objects pulumi.StringArray
	for _, arn := range args.DataBucketARNs {
		objects = append(objects, pulumi.Sprintf("%s/", arn))
	}
	trail, err := cloudtrail.NewTrail(ctx, name, &cloudtrail.TrailArgs{
		Name:                    pulumi.String(trailName),
		S3BucketName:            bucket.Name,
		KmsKeyId:                args.KMSKeyARN,
		EnableLogFileValidation: pulumi.Bool(true),
		// Global services (IAM, STS) are recorded in us-east-1 by a
		// multi-region trail; this trail records its region.
		IncludeGlobalServiceEvents: pulumi.Bool(false),
		IsMultiRegionTrail:         pulumi.Bool(false),
		AdvancedEventSelectors: cloudtrail.TrailAdvancedEventSelectorArray{
			&cloudtrail.TrailAdvancedEventSelectorArgs{
				Name: pulumi.String("Management events, reads included (Secrets Manager GetSecretValue)"),
				FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
					&cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.ToStringArray([]string{"Management"})},
				},
			},
			&cloudtrail.TrailAdvancedEventSelectorArgs{
				Name: pulumi.String("Object reads and writes of the data buckets"),
				FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
					&cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.ToStringArray([]string{"Data"})},
					&cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.type"), Equals: pulumi.ToStringArray([]string{"AWS::S3::Object"})},
					&cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.ARN"), StartsWiths: objects},
				},
			},
		},
		Tags: tags.Named(args.Tags, trailName),
	}, parent, pulumi.DependsOn([]pulumi.Resource{bucket.Ready}))
	if err != nil {
		return nil, err
	}
	a.Trail = trail
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"trailArn": trail.Arn}); err != nil {
		return nil, err
	}
	return a, nil
}
