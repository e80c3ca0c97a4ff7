// Package airbyte installs Airbyte (the V2 Helm chart) wired to RDS, S3 and
// Secrets Manager, and defines the AWS permissions Airbyte needs.
package airbyte

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// DefaultNamespace is the namespace Airbyte runs in unless configured otherwise.
const DefaultNamespace = stackconfig.AirbyteNamespace

// ServiceAccountName is the service account of Airbyte's own components
// (server, workers, workload API and launcher, cron, Temporal, bootloader):
// each component's serviceAccountName in the chart. Its IRSA role trusts
// only it.
const ServiceAccountName = "airbyte-admin"

// JobServiceAccountName is the service account of the job pods (check,
// discover, spec, replication), which run third-party connector code. The
// chart gives job pods global.serviceAccountName (as JOB_KUBE_SERVICEACCOUNT)
// and lets each component override it, so the jobs get an account of their
// own, with no Kubernetes permissions and a role of their own.
const JobServiceAccountName = "airbyte-jobs"

// ManagedTag is the tag Airbyte puts on the Secrets Manager secrets it
// creates for connector credentials, and the only ones it may touch.
const ManagedTag = "AirbyteManaged"

// SecretNamePrefix begins the name of every secret Airbyte manages:
// airbyte-platform's AirbyteManagedSecretCoordinate always starts with
// "airbyte_" ("airbyte_workspace_<id>_secret_<uuid>_v<n>"). Platform secret
// names start with the platform name, which cannot hold "_", so no
// platform secret matches it.
const SecretNamePrefix = "airbyte_"

// ServiceAccounts are the accounts the platform role trusts.
func ServiceAccounts(namespace string) []identity.ServiceAccount {
	return []identity.ServiceAccount{{Namespace: namespace, Name: ServiceAccountName}}
}

// JobServiceAccounts are the accounts the job role trusts.
func JobServiceAccounts(namespace string) []identity.ServiceAccount {
	return []identity.ServiceAccount{{Namespace: namespace, Name: JobServiceAccountName}}
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

func (s PolicyScope) airbyteSecrets() pulumi.StringInput {
	return pulumi.String(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s*", s.Region, s.AccountID, SecretNamePrefix))
}

func (s PolicyScope) tagged() iampolicy.Condition {
	return iampolicy.Condition{Test: "StringEquals", Variable: pulumi.String("secretsmanager:ResourceTag/" + ManagedTag), Values: iampolicy.Strings("true")}
}

// viaServices limits use of the platform key to requests S3 and Secrets
// Manager make on the role's behalf.
func (s PolicyScope) viaServices() iampolicy.Condition {
	return iampolicy.Condition{Test: "StringEquals", Variable: pulumi.String("kms:ViaService"),
		Values: iampolicy.Strings("s3."+s.Region+".amazonaws.com", "secretsmanager."+s.Region+".amazonaws.com")}
}

// Policies returns the permissions of Airbyte's own components: its bucket
// and objects; Secrets Manager only on secrets named airbyte_* and tagged
// AirbyteManaged=true (the actions Airbyte documents, with the tag required
// on creation too); and use of the platform key through S3 and Secrets
// Manager.
func Policies(s PolicyScope) []identity.Policy {
	secrets := s.airbyteSecrets()
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
			Conditions: []iampolicy.Condition{s.tagged()},
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
			// ListSecrets has no resource-level permissions: "*" is the
			// narrowest AWS allows. It returns names and tags, never values.
			Sid:       "ListSecrets",
			Actions:   []string{"secretsmanager:ListSecrets"},
			Resources: iampolicy.Strings("*"),
		},
		{
			Sid:        "UseThePlatformKey",
			Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
			Resources:  iampolicy.Inputs(s.KMSKeyARN),
			Conditions: []iampolicy.Condition{s.viaServices()},
		},
	}}}}
}

// JobPolicies returns the permissions of the job pods, which run connector
// code: read (never create, change or list) the secrets Airbyte manages,
// which the init container hydrates into the connector's config; read and
// write the objects under the prefixes the orchestrator and sidecar use
// (logs, state, workload output), and list the bucket's names; and use of the
// platform key through S3 and Secrets Manager only.
func JobPolicies(s PolicyScope) []identity.Policy {
	prefixes := []string{LogPrefix, StatePrefix, WorkloadOutputPrefix}
	var objects []pulumi.StringInput
	for _, p := range prefixes {
		objects = append(objects, pulumi.Sprintf("%s/%s*", s.BucketARN, p))
	}
	return []identity.Policy{{Name: "airbyte-jobs", Document: iampolicy.Document{Statements: []iampolicy.Statement{
		{
			// Names only; without it S3 answers a HEAD of a missing
			// object with 403, not 404.
			Sid:       "ListTheBucket",
			Actions:   []string{"s3:ListBucket"},
			Resources: iampolicy.Inputs(s.BucketARN),
		},
		{
			Sid:       "ReadWriteJobObjects",
			Actions:   []string{"s3:GetObject", "s3:PutObject"},
			Resources: objects,
		},
		{
			Sid:        "ReadAirbyteManagedSecrets",
			Actions:    []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resources:  iampolicy.Inputs(s.airbyteSecrets()),
			Conditions: []iampolicy.Condition{s.tagged()},
		},
		{
			Sid:        "UseThePlatformKey",
			Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources:  iampolicy.Inputs(s.KMSKeyARN),
			Conditions: []iampolicy.Condition{s.viaServices()},
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

// TemporalDatabases are the databases Airbyte's Temporal keeps its state
// and visibility records in: the defaults of DBNAME and VISIBILITY_DBNAME
// in the auto-setup image's auto-setup.sh (temporalio/auto-setup 1.27.2, the
// chart's image), which the chart does not set. The login job makes them
// for Airbyte's owner role (database.LoginJobArgs.Databases); Temporal's
// schema tool then only adds its tables (its create-database step ignores
// an existing database).
var TemporalDatabases = []string{"temporal", "temporal_visibility"}

// roles makes the IRSA roles of Airbyte's components and of its job pods.
// They carry an alias to the stack's root, where stacks made them before
// the component did, so that an upgrade keeps them.
func (b *airbyteBuild) roles() error {
	args := b.args
	scope := PolicyScope{Region: args.Region, AccountID: args.AccountID, BucketARN: args.BucketARN, KMSKeyARN: args.KMSKeyARN}
	var err error
	for _, r := range []struct {
		role     **identity.IrsaRole
		suffix   string
		about    string
		accounts []identity.ServiceAccount
		policies []identity.Policy
	}{
		{&b.a.Role, "-role", "Airbyte's components", ServiceAccounts(b.cfg.Namespace), Policies(scope)},
		{&b.a.JobRole, "-jobs-role", "Airbyte's connector jobs", JobServiceAccounts(b.cfg.Namespace), JobPolicies(scope)},
	} {
		*r.role, err = identity.NewIrsaRole(b.ctx, b.name+r.suffix, &identity.IrsaRoleArgs{
			OIDCProviderARN: args.OIDCProviderARN,
			OIDCIssuer:      args.OIDCIssuer,
			ServiceAccounts: r.accounts,
			Policies:        r.policies,
			Description:     describe(r.about, args.Platform),
			Tags:            args.Tags,
		}, b.parent, pulumi.Aliases([]pulumi.Alias{{NoParent: pulumi.Bool(true)}}))
		if err != nil {
			return err
		}
	}
	return nil
}

// describe is a role's description: what it is for, and the platform's name.
func describe(about, platform string) string {
	if platform == "" {
		return about
	}
	return about + " of platform " + platform
}
