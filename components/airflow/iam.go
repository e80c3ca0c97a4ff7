// Package airflow installs Apache Airflow (the official Helm chart) wired to
// RDS, S3 and Secrets Manager, and defines the AWS permissions Airflow needs.
package airflow

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// DefaultNamespace is the namespace Airflow runs in unless configured otherwise.
const DefaultNamespace = stackconfig.AirflowNamespace

// ReleaseName is the Helm release's name. The chart names each component's
// service account "<release>-<component>", or just after the component when
// the release name already holds "airflow"; fixing it keeps them predictable.
const ReleaseName = "airflow"

// AWSComponents are the Airflow components that reach AWS (remote logs in
// S3, connections and variables in Secrets Manager), with the chart's name
// of their service account. "workers" are the task pods.
var AWSComponents = map[string]string{
	"workers":      ReleaseName + "-worker",
	"scheduler":    ReleaseName + "-scheduler",
	"apiServer":    ReleaseName + "-api-server",
	"triggerer":    ReleaseName + "-triggerer",
	"dagProcessor": ReleaseName + "-dag-processor",
}

// ControlComponents are the long-running components, which share the
// control role; the task pods ("workers") have a role of their own.
var ControlComponents = []string{"apiServer", "dagProcessor", "scheduler", "triggerer"}

// ServiceAccounts are the accounts the control role trusts: those of
// ControlComponents, in a fixed order.
func ServiceAccounts(namespace string) []identity.ServiceAccount {
	var out []identity.ServiceAccount
	for _, c := range ControlComponents {
		out = append(out, identity.ServiceAccount{Namespace: namespace, Name: AWSComponents[c]})
	}
	return out
}

// TaskServiceAccounts are the accounts the task role trusts: the task
// pods' (the chart's workers account, which the KubernetesExecutor's pod
// template uses).
func TaskServiceAccounts(namespace string) []identity.ServiceAccount {
	return []identity.ServiceAccount{{Namespace: namespace, Name: AWSComponents["workers"]}}
}

// SecretsPrefix is where Airflow's Secrets Manager backend looks up
// connections ("<prefix>/connections/<id>") and variables ("<prefix>/variables/<key>").
func SecretsPrefix(platform string) string { return platform + "/airflow" }

// LogPrefix is the folder of the remote task logs in the log bucket.
const LogPrefix = "logs"

// PolicyScope is what Airflow's permissions are scoped to.
type PolicyScope struct {
	// Region, AccountID and Platform (the secrets prefix) scope the Secrets
	// Manager permissions.
	Region, AccountID, Platform string
	// LogBucketARN is the bucket of Airflow's remote task logs.
	LogBucketARN pulumi.StringInput
	// KMSKeyARN is the platform key, which encrypts the log objects and
	// the secrets.
	KMSKeyARN pulumi.StringInput
}

// statements are the permissions both roles are built from: read or write
// task logs under LogPrefix (and list the log bucket), read connections
// and variables, and use the platform key through S3 and Secrets Manager.
func (s PolicyScope) statements(logActions []string, secrets bool) []iampolicy.Statement {
	secret := func(kind string) pulumi.StringInput {
		return pulumi.String(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/%s/*", s.Region, s.AccountID, SecretsPrefix(s.Platform), kind))
	}
	via := []string{"s3." + s.Region + ".amazonaws.com"}
	out := []iampolicy.Statement{
		{
			// Unconditioned: without s3:ListBucket, S3 answers a HEAD of a
			// missing log with 403 instead of 404, and S3TaskHandler's
			// "does the log exist" check raises. The bucket holds only logs.
			Sid:       "ListTheLogBucket",
			Actions:   []string{"s3:ListBucket"},
			Resources: iampolicy.Inputs(s.LogBucketARN),
		},
		{
			Sid:       "TaskLogs",
			Actions:   logActions,
			Resources: iampolicy.Inputs(pulumi.Sprintf("%s/%s/*", s.LogBucketARN, LogPrefix)),
		},
	}
	if secrets {
		out = append(out, iampolicy.Statement{
			Sid:       "ReadConnectionsAndVariables",
			Actions:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resources: iampolicy.Inputs(secret("connections"), secret("variables")),
		})
		via = append(via, "secretsmanager."+s.Region+".amazonaws.com")
	}
	return append(out, iampolicy.Statement{
		Sid:        "UseThePlatformKey",
		Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
		Resources:  iampolicy.Inputs(s.KMSKeyARN),
		Conditions: []iampolicy.Condition{{Test: "StringEquals", Variable: pulumi.String("kms:ViaService"), Values: iampolicy.Strings(via...)}},
	})
}

// Policies returns the control components' permissions. The API server
// reads task logs to show them; the triggerer writes the logs of deferred
// tasks and the DAG processor its own; the DAG processor (DAG files' top
// level) and the triggerer (triggers) run code that reads connections and
// variables. Nothing deletes logs: the bucket's lifecycle expires them.
func Policies(s PolicyScope) []identity.Policy {
	return []identity.Policy{{Name: "airflow", Document: iampolicy.Document{
		Statements: s.statements([]string{"s3:GetObject", "s3:PutObject"}, true),
	}}}
}

// TaskPolicies returns the task pods' permissions: write their own logs
// (S3TaskHandler reads an existing log object to append to it, hence
// GetObject) and read the connections and variables tasks use. Unlike the
// control components' account, the task pods' account is bound to no
// Kubernetes Role: task code cannot start pods.
func TaskPolicies(s PolicyScope) []identity.Policy {
	return []identity.Policy{{Name: "airflow-tasks", Document: iampolicy.Document{
		Statements: s.statements([]string{"s3:GetObject", "s3:PutObject"}, true),
	}}}
}

// roles makes the IRSA roles of Airflow's control components and of its
// task pods, which run DAG code. They carry an alias to the stack's root,
// where stacks made them before the component did, so that an upgrade
// keeps them.
func (b *airflowBuild) roles() error {
	args := b.args
	scope := PolicyScope{Region: args.Region, AccountID: args.AccountID, Platform: args.Platform, LogBucketARN: args.LogBucketARN, KMSKeyARN: args.KMSKeyARN}
	var err error
	for _, r := range []struct {
		role     **identity.IrsaRole
		suffix   string
		about    string
		accounts []identity.ServiceAccount
		policies []identity.Policy
	}{
		{&b.a.Role, "-role", "Airflow's control components", ServiceAccounts(b.cfg.Namespace), Policies(scope)},
		{&b.a.TaskRole, "-tasks-role", "Airflow's task pods", TaskServiceAccounts(b.cfg.Namespace), TaskPolicies(scope)},
	} {
		*r.role, err = identity.NewIrsaRole(b.ctx, b.name+r.suffix, &identity.IrsaRoleArgs{
			OIDCProviderARN: args.OIDCProviderARN,
			OIDCIssuer:      args.OIDCIssuer,
			ServiceAccounts: r.accounts,
			Policies:        r.policies,
			Description:     r.about + " of platform " + args.Platform,
			Tags:            args.Tags,
		}, b.parent, pulumi.Aliases([]pulumi.Alias{{NoParent: pulumi.Bool(true)}}))
		if err != nil {
			return err
		}
	}
	return nil
}
