package database

import (
	"fmt"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/netpol"

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
	// Databases are further databases of the app, besides its own, that the
	// job makes and hands to the app's owner role before the app runs (such
	// as Temporal's temporal and temporal_visibility, which Airbyte's
	// Temporal would otherwise create, open to every login of the
	// instance).
	Databases []string
	// CreateDatabases lets the app's owner role create databases. Airbyte's
	// needs it although the job makes Temporal's databases: Temporal's
	// schema tool runs CREATE DATABASE for each (ignoring only "already
	// exists"), and PostgreSQL refuses a role without CREATEDB before it
	// looks at the name (the test bed found the schema tool failing).
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
// server, its logs or pg_stat_statements): the owner role (NOLOGIN), and
// both logins as members that act as the owner (SET role), so whatever one
// creates the other can use. The master user grants itself the owner role:
// since PostgreSQL 16 the creator of a role may administer it but not act
// as it, which handing databases and objects to it requires.
const loginSQL = `
SELECT format('CREATE ROLE %I NOLOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('ALTER ROLE %I %s', :'owner', CASE WHEN :'createdb' = 'true' THEN 'CREATEDB' ELSE 'NOCREATEDB' END) \gexec
SELECT format('GRANT %I TO %I', :'owner', current_user) WHERE NOT pg_has_role(current_user, :'owner', 'USAGE') \gexec
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY[:'blue', :'green']) AS r WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'blue', :'blue_verifier') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'green', :'green_verifier') \gexec
SELECT format('GRANT %I TO %I', :'owner', r) FROM unnest(ARRAY[:'blue', :'green']) AS r \gexec
SELECT format('ALTER ROLE %I SET role = %L', r, :'owner') FROM unnest(ARRAY[:'blue', :'green']) AS r \gexec
`

// databaseSQL runs in RDS's "postgres" database: it makes one of the app's
// databases if the instance lacks it (an instance shared by several apps
// has none of its own; Temporal's are made here too, so that they are
// never open to other apps' logins).
const databaseSQL = `
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
`

// handOverSQL runs in each of the app's databases once the owner role
// exists. It refuses a database that belongs to another role (another
// app's, on a shared instance); gives the database and its public schema to
// the owner role; hands over, object by object, what the master user still
// owns in it (tables of a platform deployed before it had logins); and
// takes CONNECT and TEMPORARY from PUBLIC, so that only the owner role (and
// its logins) and the master user may connect. Not REASSIGN OWNED: that
// also reassigns the shared objects the master user owns, which on RDS are
// the instance's postgres and template1 databases (and, on a shared
// instance, any other app's database it still owns), handing them to this
// app. Its DO block is quoted $handover$, not $$: the kubelet reduces $$ to
// $ in a container's command.
const handOverSQL = `
SELECT set_config('dataplatform.owner', :'owner', false) \g /dev/null
DO $handover$
DECLARE
  owner text := current_setting('dataplatform.owner');
  me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
  dbowner text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
  r record;
BEGIN
  IF dbowner NOT IN (current_user, owner) THEN
    RAISE EXCEPTION 'database % belongs to %, not to % or %', current_database(), dbowner, owner, current_user;
  END IF;
  EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner);
  EXECUTE format('ALTER SCHEMA public OWNER TO %I', owner);
  FOR r IN SELECT n.nspname FROM pg_namespace n WHERE n.nspowner = me AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, owner);
  END LOOP;
  FOR r IN SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind, t.oid::regtype AS name
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typowner = me AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.name, owner);
  END LOOP;
  FOR r IN SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind, n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relowner = me AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i')))) LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I', r.kind, r.nspname, r.relname, owner);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proowner = me AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.name, owner);
  END LOOP;
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$handover$;
`

// loginScript makes each of the app's databases ($DATABASES: its own
// first, then those its software uses, such as Temporal's) from RDS's
// postgres database, makes the roles (loginSQL) in the app's own database,
// then hands each of the app's databases over (handOverSQL).
const loginScript = `set -eu
for db in $DATABASES; do
  psql -v ON_ERROR_STOP=1 -d postgres -v db="$db" <<'SQL'
` + databaseSQL + `SQL
done
psql -v ON_ERROR_STOP=1 -v owner="$OWNER" -v blue="$BLUE" -v green="$GREEN" \
  -v blue_verifier="$BLUE_VERIFIER" -v green_verifier="$GREEN_VERIFIER" -v createdb="$CREATEDB" <<'SQL'
` + loginSQL + `SQL
for db in $DATABASES; do
  psql -v ON_ERROR_STOP=1 -d "$db" -v owner="$OWNER" <<'SQL'
` + handOverSQL + `SQL
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
	synced, err := loginJobSecrets(ctx, name, args, parent)
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
			Labels:    pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(loginJobApp), "dataplatform.io/app": pulumi.String(l.App)},
		},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(6),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{
					Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(loginJobApp)},
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
							plain("DATABASES", pulumi.String(strings.Join(append([]string{l.DatabaseName}, args.Databases...), " "))),
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
	}, parent, pulumi.DependsOn(append(append(synced, args.CA, l.Database.Instance), args.WaitFor...)))
	if err != nil {
		return nil, err
	}
	j.Job = job
	if err := ctx.RegisterResourceOutputs(j, pulumi.Map{}); err != nil {
		return nil, err
	}
	return j, nil
}

// loginJobSecrets syncs the RDS master credentials and the logins' SCRAM
// verifiers into the job's namespace.
func loginJobSecrets(ctx *pulumi.Context, name string, args *LoginJobArgs, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
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
	return []pulumi.Resource{master, logins}, nil
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

// loginJobApp is the login jobs' app.kubernetes.io/name label.
const loginJobApp = "db-logins"

// LoginJobPolicies are the NetworkPolicies of the namespace the login jobs
// run in (netpol.New): deny by default, DNS, and the login jobs' pods to
// the databases' blocks on 5432, nothing else.
func LoginJobPolicies(databaseCIDRs []string) []netpol.Policy {
	return append(netpol.Baseline(), netpol.Policy{
		Name: "login-jobs", Key: "app.kubernetes.io/name", Values: []string{loginJobApp}, Description: "the login jobs: to the databases",
		Egress: []netpol.Rule{{Peers: []netpol.Peer{netpol.Blocks(databaseCIDRs...)}, Ports: netpol.TCP(5432)}},
	})
}
