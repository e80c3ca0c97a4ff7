package observability_test

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/observability"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// Container Insights and the node and queue alarms of a cluster, mailed to on-call.
func ExampleNewMonitoring() {
	program := func(ctx *pulumi.Context) error {
		m, err := observability.NewMonitoring(ctx, "monitoring", &observability.MonitoringArgs{
			Config:                observability.Config{AlarmEmails: []string{"oncall@example.com"}},
			ClusterName:           "analytics",
			OIDCProviderARN:       pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			OIDCIssuer:            pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"),
			AddonVersion:          "v6.4.0-eksbuild.1",
			KMSKeyARN:             pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
			InterruptionQueueName: pulumi.String("analytics-karpenter"),
		})
		if err != nil {
			return err
		}
		ctx.Export("topic", m.TopicARN)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:cloudwatch/metricAlarm:MetricAlarm"], counts["aws:sns/topicSubscription:TopicSubscription"])
	// Output: <nil> 2 1
}

// An audit trail of the region's management events (Secrets Manager reads
// included) and of every object read and write in one data bucket.
func ExampleNewAuditTrail() {
	program := func(ctx *pulumi.Context) error {
		a, err := observability.NewAuditTrail(ctx, "audit", &observability.AuditTrailArgs{
			Platform: "analytics", Region: "us-east-1", AccountID: "123456789012",
			DataBucketARNs: []pulumi.StringInput{pulumi.String("arn:aws:s3:::analytics-data-123456789012")},
			KMSKeyARN:      pulumi.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		})
		if err != nil {
			return err
		}
		ctx.Export("trail", a.Trail.Arn)
		return nil
	}
	counts, err := mocks.RunExample(program)
	fmt.Println(err, counts["aws:cloudtrail/trail:Trail"], counts["aws:s3/bucketV2:BucketV2"])
	// Output: <nil> 1 1
}
