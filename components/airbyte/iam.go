// Package airbyte installs Airbyte (the V2 Helm chart) wired to RDS, S3 and
// Secrets Manager, and defines the AWS permissions Airbyte needs.
package airbyte

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/spec"
)

// DefaultNamespace is the namespace Airbyte runs in unless configured otherwise.
const DefaultNamespace = spec.AirbyteNamespace

// ServiceAccountName is the one service account every Airbyte pod runs as:
// the chart's global.serviceAccountName, which job pods get too (through
// JOB_KUBE_SERVICEACCOUNT). Its IRSA role trusts only it.
const ServiceAccountName = "airbyte-admin"

// ManagedTag is the tag Airbyte puts on the Secrets Manager secrets it
// creates for connector credentials, and the only ones it may touch.
const ManagedTag = "AirbyteManaged"

// ServiceAccounts are the accounts the Airbyte role trusts.
func ServiceAccounts(namespace string) []identity.ServiceAccount {
	return []identity.ServiceAccount{{Namespace: namespace, Name: ServiceAccountName}}
}

// PolicyScope is what Airbyte's permissions are scoped to.
type PolicyScope struct {
	// Region and AccountID scope the Secrets Manager permissions.
	Region, AccountID string
	// BucketARN is Airbyte's bucket (logs, state, workload output, activity payloads).
	BucketARN pulumi.StringInput
	// KMSKeyARN is the platform key: the bucket's objects and Airbyte's
	// secrets are encrypted with it.
	KMSKeyARN pulumi.StringInput
}

// Policies returns Airbyte's permissions: its bucket and objects only;
// Secrets Manager only on secrets tagged AirbyteManaged=true (the actions
// Airbyte documents, with the tag condition made to hold on creation too);
// and use of the platform key.
func Policies(s PolicyScope) []identity.Policy {
	secrets := pulumi.String(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:*", s.Region, s.AccountID))
	tagged := iampolicy.Condition{Test: "StringEquals", Variable: pulumi.String("secretsmanager:ResourceTag/" + ManagedTag), Values: iampolicy.Strings("true")}
	return []identity.Policy{{Name: "airbyte", Document: iampolicy.Document{Statements: []iampolicy.Statement{
		{
			Sid:       "ListTheBucket",
			Actions:   []string{"s3:ListBucket", "s3:GetBucketLocation"},
			Resources: iampolicy.Inputs(s.BucketARN),
		},
		{
			Sid:       "ReadWriteTheBucketsObjects",
			Actions:   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			Resources: iampolicy.Inputs(pulumi.Sprintf("%s/*", s.BucketARN)),
		},
		{
			Sid:        "UseAirbyteManagedSecrets",
			Actions:    []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret", "secretsmanager:TagResource"},
			Resources:  iampolicy.Inputs(secrets),
			Conditions: []iampolicy.Condition{tagged},
		},
		{
			Sid:       "CreateOnlyTaggedSecrets",
			Actions:   []string{"secretsmanager:CreateSecret"},
			Resources: iampolicy.Inputs(secrets),
			Conditions: []iampolicy.Condition{{
				Test: "StringEquals", Variable: pulumi.String("aws:RequestTag/" + ManagedTag), Values: iampolicy.Strings("true"),
			}},
		},
		{
			// ListSecrets has no resource-level permissions: "*" is the narrowest AWS allows.
			Sid:       "ListSecrets",
			Actions:   []string{"secretsmanager:ListSecrets"},
			Resources: iampolicy.Strings("*"),
		},
		{
			Sid:       "UseThePlatformKey",
			Actions:   []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
			Resources: iampolicy.Inputs(s.KMSKeyARN),
		},
	}}}}
}

// Prefixes Airbyte writes under in its bucket, one per kind of document
// (airbyte-platform's StorageClient DocumentType). The chart only names the
// bucket of each kind; all of them share one bucket here. Only logs expire.
const (
	LogPrefix             = "job-logging/"
	StatePrefix           = "state/"
	WorkloadOutputPrefix  = "workload/output/"
	ActivityPayloadPrefix = "activity-payloads/"
)
