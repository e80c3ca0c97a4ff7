package database

import (
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/secretsync"
)

// AdminTypeToken is the Pulumi type of the Admin component.
const AdminTypeToken = "dataplatform:database:Admin"

// DefaultAdminNamespace is where Admin runs the login jobs unless told
// otherwise.
const DefaultAdminNamespace = "db-admin"

// AdminApp is one app whose logins Admin makes.
type AdminApp struct {
	// Logins are the app's logins (NewLogins). Required.
	Logins *Logins
	// JobName is the Pulumi name of the app's login job (default
	// "<app>-logins").
	JobName string
	// Databases and CreateDatabases are as in LoginJobArgs: further
	// databases the job makes for the app, and whether its owner may create
	// databases.
	Databases       []string
	CreateDatabases bool
}

// AdminArgs are the inputs of NewAdmin. Kubernetes resources use the
// provider given to the component.
type AdminArgs struct {
	// Namespace is the namespace the component makes for the jobs, where no
	// app runs (default DefaultAdminNamespace).
	Namespace string
	// Databases are the instances the apps' logins are in; their master
	// credentials are synced into Namespace, and nowhere else. Required.
	Databases []*Postgres
	// Apps are the apps whose logins the jobs make. Required.
	Apps []AdminApp
	// SecretSync is the External Secrets Operator that syncs the
	// credentials. Required.
	SecretSync *secretsync.Operator
	// CABundle is the region's RDS CA bundle (PEM) the jobs verify the
	// databases against (CheckCABundle). Required.
	CABundle string
	// MajorVersion is the PostgreSQL major version, for the client. Required.
	MajorVersion string
	// DatabaseCIDRs are the databases' subnets: the only place the jobs'
	// NetworkPolicies let them reach besides DNS. Required.
	DatabaseCIDRs []string
	// Tolerations let the jobs onto tainted nodes (such as the core nodes).
	Tolerations []map[string]string
	// WaitFor are what the jobs wait for besides the credentials: nodes to
	// run on.
	WaitFor []pulumi.Resource
}

// Admin is what makes the apps' database logins: a namespace apart from
// every app, isolated by NetworkPolicies (LoginJobPolicies), the only
// SecretStore allowed to read the RDS master credentials, the RDS CA
// ConfigMap, and one login job per app. Create it with NewAdmin.
type Admin struct {
	pulumi.ResourceState

	// Namespace is the jobs' namespace.
	Namespace *corev1.Namespace
	// Jobs are the login jobs by app name: each app's release waits for its own.
	Jobs map[string]*batchv1.Job
}

// NewAdmin makes the namespace, its NetworkPolicies, store and CA, and the
// apps' login jobs. Its children carry an alias to the stack's root, where
// stacks made them before this component existed, so that an upgrade moves
// them without replacing any.
func NewAdmin(ctx *pulumi.Context, name string, args *AdminArgs, opts ...pulumi.ResourceOption) (*Admin, error) {
	if args == nil || len(args.Databases) == 0 || len(args.Apps) == 0 || args.SecretSync == nil || args.CABundle == "" || args.MajorVersion == "" || len(args.DatabaseCIDRs) == 0 {
		return nil, fmt.Errorf("database admin %s: databases, apps, secretSync, caBundle, majorVersion and databaseCidrs are required", name)
	}
	a := &Admin{Jobs: map[string]*batchv1.Job{}}
	if err := ctx.RegisterComponentResource(AdminTypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	child := []pulumi.ResourceOption{pulumi.Parent(a), pulumi.Aliases([]pulumi.Alias{{NoParent: pulumi.Bool(true)}})}
	namespace := args.Namespace
	if namespace == "" {
		namespace = DefaultAdminNamespace
	}
	ns, policies, err := netpol.Isolated(ctx, name, namespace, LoginJobPolicies(args.DatabaseCIDRs), child...)
	if err != nil {
		return nil, err
	}
	a.Namespace = ns
	// The only store that may read the RDS master credentials.
	var readable []pulumi.StringInput
	for _, db := range args.Databases {
		readable = append(readable, db.MasterSecretARN)
	}
	for _, app := range args.Apps {
		for _, c := range Colors {
			readable = append(readable, app.Logins.SecretARNs[c])
		}
	}
	store, err := secretsync.NewStore(ctx, name+"-secrets", &secretsync.StoreArgs{
		Operator: args.SecretSync, Namespace: namespace, SecretARNs: readable, WaitFor: []pulumi.Resource{ns},
	}, child...)
	if err != nil {
		return nil, err
	}
	ca, err := NewCAConfigMap(ctx, name+"-rds-ca", ns.Metadata.Name().Elem(), args.CABundle, child...)
	if err != nil {
		return nil, err
	}
	for _, app := range args.Apps {
		jobName := app.JobName
		if jobName == "" {
			jobName = app.Logins.App + "-logins"
		}
		job, err := NewLoginJob(ctx, jobName, &LoginJobArgs{
			Logins: app.Logins, Namespace: ns.Metadata.Name().Elem(), Store: store, CA: ca,
			MajorVersion: args.MajorVersion, Databases: app.Databases, CreateDatabases: app.CreateDatabases,
			Tolerations: args.Tolerations, WaitFor: append(append([]pulumi.Resource{}, args.WaitFor...), policies...),
		}, child...)
		if err != nil {
			return nil, err
		}
		a.Jobs[app.Logins.App] = job.Job
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{}); err != nil {
		return nil, err
	}
	return a, nil
}
