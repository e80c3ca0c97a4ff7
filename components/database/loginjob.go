package database

import (
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/secretsync"
)

// LoginJobTypeToken is the Pulumi type of the LoginJob component.
const LoginJobTypeToken = "dataplatform:database:LoginJob"

// ClientImage is the PostgreSQL client image of the login job, by major
// version: the official image through ECR Public (no Docker Hub rate limit),
// built for amd64 and arm64.
func ClientImage(major string) string {
	return "public.ecr.aws/docker/library/postgres:" + major + "-alpine"
}

// LoginJobArgs are the inputs of NewLoginJob. Kubernetes resources use the
// provider given to the component.
type LoginJobArgs struct {
	// Logins are the app's logins (NewLogins). Required.
	Logins *Logins
	// Namespace is where the job and the master credentials live: a
	// namespace of its own, where no app runs, since the job reads the RDS
	// master password. Required.
	Namespace pulumi.StringInput
	// Store is Namespace's SecretStore, which must be allowed to read the
	// master secret and both logins' secrets. Required.
	Store *secretsync.Store
	// CA is the ConfigMap of RDS's certificate authorities in Namespace
	// (NewCAConfigMap): the job verifies the server's certificate and host
	// name against it (sslmode verify-full). Required.
	CA pulumi.Resource
	// MajorVersion is the PostgreSQL major version, for the client. Required.
	MajorVersion string
	// CreateDatabases lets the app create databases of its own (Airbyte's
	// Temporal creates temporal and temporal_visibility).
	CreateDatabases bool
	// Tolerations let the job onto tainted nodes (such as the core nodes,
	// which exist before any app's).
	Tolerations []map[string]string
	// WaitFor are what the job waits for besides the credentials: nodes to
	// run on.
	WaitFor []pulumi.Resource
}

// LoginJob is the Kubernetes Job that makes an app's logins in its
// database. Create it with NewLoginJob.
type LoginJob struct {
	pulumi.ResourceState

	// Job is the job; the app's release must wait for it.
	Job *batchv1.Job
}

// loginSQL makes the roles idempotently. It runs as the RDS master user,
// with psql variables for the names and the passwords' SCRAM verifiers
// (never in the job's spec; the passwords themselves never reach the
// server, its logs or pg_stat_statements): the owner role (NOLOGIN) owns the database, its public schema and
// what the master user still owns (a platform deployed before the logins);
// both logins are members that act as the owner (SET role), so whatever one
// creates the other can use. The master user grants itself the owner role:
// since PostgreSQL 16 the creator of a role may administer it but not act
// as it, which handing the database to it requires.
const loginSQL = `
SELECT format('CREATE ROLE %I NOLOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('ALTER ROLE %I %s', :'owner', CASE WHEN :'createdb' = 'true' THEN 'CREATEDB' ELSE 'NOCREATEDB' END) \gexec
SELECT format('GRANT %I TO %I', :'owner', current_user) WHERE NOT pg_has_role(current_user, :'owner', 'USAGE') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), :'owner') \gexec
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY[:'blue', :'green']) AS r WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'blue', :'blue_verifier') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'green', :'green_verifier') \gexec
SELECT format('GRANT %I TO %I', :'owner', r) FROM unnest(ARRAY[:'blue', :'green']) AS r \gexec
SELECT format('ALTER ROLE %I SET role = %L', r, :'owner') FROM unnest(ARRAY[:'blue', :'green']) AS r \gexec
`

// databaseSQL runs in RDS's "postgres" database before loginSQL: it makes
// the app's database if the instance lacks it (an instance shared by
// several apps has none of its own).
const databaseSQL = `
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
`

// loginScript makes the app's database (databaseSQL), runs loginSQL in
// it, then, in each of the app's databases (its own and those it made,
// such as Temporal's), hands what the master user owns to the owner role
// (tables a platform made before it had logins) and takes CONNECT from
// PUBLIC, so that only the app's owner role (and its logins) and the
// master user may connect: on a shared instance, no other app's login.
const loginScript = `set -eu
psql -v ON_ERROR_STOP=1 -d postgres -v db="$PGDATABASE" <<'SQL'
` + databaseSQL + `SQL
psql -v ON_ERROR_STOP=1 -v owner="$OWNER" -v blue="$BLUE" -v green="$GREEN" \
  -v blue_verifier="$BLUE_VERIFIER" -v green_verifier="$GREEN_VERIFIER" -v createdb="$CREATEDB" <<'SQL'
` + loginSQL + `SQL
dbs=$(psql -At -v ON_ERROR_STOP=1 -v owner="$OWNER" <<'SQL'
SELECT datname FROM pg_database WHERE NOT datistemplate AND pg_get_userbyid(datdba) IN (current_user, :'owner')
SQL
)
for db in $dbs; do
  echo 'REASSIGN OWNED BY CURRENT_USER TO :"owner"' | psql -v ON_ERROR_STOP=1 -v owner="$OWNER" -d "$db"
  echo 'REVOKE CONNECT, TEMPORARY ON DATABASE :"db" FROM PUBLIC' | psql -v ON_ERROR_STOP=1 -v db="$db" -d "$db"
done
`

// NewLoginJob syncs the master and login credentials into the job's
// namespace and runs the job that makes the logins; Pulumi waits until it
// has completed. The job runs again (a new Job) when the generation or the
// instance changes.
func NewLoginJob(ctx *pulumi.Context, name string, args *LoginJobArgs, opts ...pulumi.ResourceOption) (*LoginJob, error) {
	if args == nil || args.Logins == nil || args.Namespace == nil || args.Store == nil || args.CA == nil || args.MajorVersion == "" {
		return nil, fmt.Errorf("login job %s: logins, namespace, store, ca and majorVersion are required", name)
	}
	j := &LoginJob{}
	if err := ctx.RegisterComponentResource(LoginJobTypeToken, name, j, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(j)
	l := args.Logins
	master, err := secretsync.NewExternalSecret(ctx, name+"-master", &secretsync.ExternalSecretArgs{
		Namespace:  args.Namespace,
		SecretName: l.App + "-db-master",
		Fields: []secretsync.Field{
			{Key: "username", SecretARN: l.Database.MasterSecretARN, Property: "username"},
			{Key: "password", SecretARN: l.Database.MasterSecretARN, Property: "password"},
		},
		Store: args.Store,
	}, parent)
	if err != nil {
		return nil, err
	}
	logins, err := secretsync.NewExternalSecret(ctx, name+"-logins", &secretsync.ExternalSecretArgs{
		Namespace:  args.Namespace,
		SecretName: l.App + "-db-logins",
		Fields: []secretsync.Field{
			{Key: "blue_verifier", SecretARN: l.SecretARNs[Colors[0]], Property: "scram"},
			{Key: "green_verifier", SecretARN: l.SecretARNs[Colors[1]], Property: "scram"},
		},
		Store: args.Store,
	}, parent)
	if err != nil {
		return nil, err
	}
	fromSecret := func(env, secret, key string) corev1.EnvVarInput {
		return corev1.EnvVarArgs{Name: pulumi.String(env), ValueFrom: corev1.EnvVarSourceArgs{
			SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String(secret), Key: pulumi.String(key)},
		}}
	}
	plain := func(env string, v pulumi.StringInput) corev1.EnvVarInput {
		return corev1.EnvVarArgs{Name: pulumi.String(env), Value: v}
	}
	runAs := pulumi.Int(70) // the image's postgres user
	job, err := batchv1.NewJob(ctx, name, &batchv1.JobArgs{
		// No name: Pulumi names the job, so a change runs a new one.
		Metadata: metav1.ObjectMetaArgs{
			Namespace: args.Namespace,
			Labels:    pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("db-logins"), "dataplatform.io/app": pulumi.String(l.App)},
		},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(6),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{
					Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("db-logins")},
					Annotations: pulumi.StringMap{
						"dataplatform.io/login-generation": pulumi.String(fmt.Sprint(l.Generation)),
						"dataplatform.io/db-instance":      l.Database.Instance.ID().ToStringOutput(),
					},
				},
				Spec: corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("Never"),
					Tolerations:                  tolerations(args.Tolerations),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: runAs, RunAsGroup: runAs},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}},
						corev1.VolumeArgs{Name: pulumi.String(CAConfigMapName), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(CAConfigMapName)}},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("psql"),
						Image:   pulumi.String(ClientImage(args.MajorVersion)),
						Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", loginScript}),
						Env: corev1.EnvVarArray{
							plain("PGHOST", l.Database.Address),
							plain("PGPORT", pulumi.String(fmt.Sprint(Port))),
							plain("PGDATABASE", pulumi.String(l.DatabaseName)),
							// The server's certificate chains to RDS's CA and names
							// the instance's host.
							plain("PGSSLMODE", pulumi.String("verify-full")),
							plain("PGSSLROOTCERT", pulumi.String(CAFile)),
							plain("PGCONNECT_TIMEOUT", pulumi.String("10")),
							fromSecret("PGUSER", l.App+"-db-master", "username"),
							fromSecret("PGPASSWORD", l.App+"-db-master", "password"),
							plain("OWNER", pulumi.String(l.Owner)),
							plain("BLUE", pulumi.String(LoginName(l.App, Colors[0]))),
							plain("GREEN", pulumi.String(LoginName(l.App, Colors[1]))),
							fromSecret("BLUE_VERIFIER", l.App+"-db-logins", "blue_verifier"),
							fromSecret("GREEN_VERIFIER", l.App+"-db-logins", "green_verifier"),
							plain("CREATEDB", pulumi.String(fmt.Sprint(args.CreateDatabases))),
							plain("HOME", pulumi.String("/tmp")),
							plain("TMPDIR", pulumi.String("/tmp")),
						},
						// The root filesystem is read-only: psql and the shell
						// get a writable home and temporary directory.
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
							corev1.VolumeMountArgs{Name: pulumi.String(CAConfigMapName), MountPath: pulumi.String(CADir), ReadOnly: pulumi.Bool(true)},
						},
						Resources: corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("50m"), "memory": pulumi.String("64Mi")},
							Limits:   pulumi.StringMap{"memory": pulumi.String("128Mi")},
						},
						SecurityContext: corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
						},
					}},
				},
			},
		},
	}, parent, pulumi.DependsOn(append([]pulumi.Resource{master, logins, args.CA, l.Database.Instance}, args.WaitFor...)))
	if err != nil {
		return nil, err
	}
	j.Job = job
	if err := ctx.RegisterResourceOutputs(j, pulumi.Map{}); err != nil {
		return nil, err
	}
	return j, nil
}

// tolerations converts tolerations written as maps (key, operator, value,
// effect) into the Kubernetes SDK's.
func tolerations(in []map[string]string) corev1.TolerationArray {
	out := corev1.TolerationArray{}
	for _, t := range in {
		arg := corev1.TolerationArgs{Key: pulumi.String(t["key"]), Operator: pulumi.String(t["operator"]), Effect: pulumi.String(t["effect"])}
		if v := t["value"]; v != "" {
			arg.Value = pulumi.String(v)
		}
		out = append(out, arg)
	}
	return out
}
