// Package airflow installs Apache Airflow (the official Helm chart) wired to
// RDS, S3 and Secrets Manager, and defines the AWS permissions Airflow needs.
package airflow

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/spec"
)

// DefaultNamespace is the namespace Airflow runs in unless configured otherwise.
const DefaultNamespace = spec.AirflowNamespace

// ReleaseName is the Helm release's name. The chart names each component's
// service account "<release>-<component>", or just after the component when
// the release name already holds "airflow"; fixing it keeps them predictable.
const ReleaseName = "airflow"

// AWSComponents are the Airflow components that reach AWS (remote logs in
// S3, connections and variables in Secrets Manager), with the chart's name
// of their service account.
var AWSComponents = map[string]string{
	"workers":      ReleaseName + "-worker",
	"scheduler":    ReleaseName + "-scheduler",
	"apiServer":    ReleaseName + "-api-server",
	"triggerer":    ReleaseName + "-triggerer",
	"dagProcessor": ReleaseName + "-dag-processor",
}

// ServiceAccounts are the accounts the Airflow role trusts: those of
// AWSComponents, in a fixed order.
func ServiceAccounts(namespace string) []identity.ServiceAccount {
	var out []identity.ServiceAccount
	for _, c := range []string{"apiServer", "dagProcessor", "scheduler", "triggerer", "workers"} {
		out = append(out, identity.ServiceAccount{Namespace: namespace, Name: AWSComponents[c]})
	}
	return out
}

// SecretsPrefix is where Airflow's Secrets Manager backend looks up
// connections ("<prefix>/connections/<id>") and variables ("<prefix>/variables/<key>").
func SecretsPrefix(platform string) string { return platform + "/airflow" }

// PolicyScope is what Airflow's permissions are scoped to.
type PolicyScope struct {
	// Region, AccountID and Platform (the secrets prefix) scope the Secrets
	// Manager permissions.
	Region, AccountID, Platform string
	// LogBucketARN is the bucket of Airflow's remote task logs.
	LogBucketARN pulumi.StringInput
	// KMSKeyARN is the platform key, which encrypts the log objects.
	KMSKeyARN pulumi.StringInput
}

// Policies returns Airflow's permissions: its log bucket, read of the
// secrets under its connections/ and variables/ prefixes, and use of the
// platform key.
func Policies(s PolicyScope) []identity.Policy {
	secret := func(kind string) pulumi.StringInput {
		return pulumi.String(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/%s/*", s.Region, s.AccountID, SecretsPrefix(s.Platform), kind))
	}
	return []identity.Policy{{Name: "airflow", Document: iampolicy.Document{Statements: []iampolicy.Statement{
		{
			Sid:       "ListTheLogBucket",
			Actions:   []string{"s3:ListBucket", "s3:GetBucketLocation"},
			Resources: iampolicy.Inputs(s.LogBucketARN),
		},
		{
			Sid:       "ReadWriteTaskLogs",
			Actions:   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			Resources: iampolicy.Inputs(pulumi.Sprintf("%s/*", s.LogBucketARN)),
		},
		{
			Sid:       "ReadConnectionsAndVariables",
			Actions:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resources: iampolicy.Inputs(secret("connections"), secret("variables")),
		},
		{
			Sid:       "UseThePlatformKey",
			Actions:   []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
			Resources: iampolicy.Inputs(s.KMSKeyARN),
		},
	}}}}
}
