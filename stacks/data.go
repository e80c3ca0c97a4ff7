package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/storage"
)

// The data layer: the databases and their logins, secrets and buckets.

// DBAdminNamespace is where the jobs that make the apps' database logins
// run, apart from every app: only there are the RDS master credentials
// synced into the cluster.
const DBAdminNamespace = database.DefaultAdminNamespace

// Databases are the platform's RDS instances: one per app, or the one they
// share (database.sharedInstance).
func (p *Platform) Databases() []*database.Postgres {
	if p.AirbyteDB == p.AirflowDB {
		return []*database.Postgres{p.AirbyteDB}
	}
	return []*database.Postgres{p.AirbyteDB, p.AirflowDB}
}

// deployLoginJobs makes the apps' logins in their databases and returns
// each app's job. The jobs run on the core nodes (with tolerations, waiting
// for nodes), which exist long before the apps' NodePools have nodes, so
// they finish while Karpenter installs.
func (p *Platform) deployLoginJobs(ctx *pulumi.Context, tolerations []map[string]string, nodes []pulumi.Resource) (map[string]pulumi.Resource, error) {
	var err error
	p.DBAdmin, err = database.NewAdmin(ctx, p.name("db-admin"), &database.AdminArgs{
		Namespace:  DBAdminNamespace,
		Databases:  p.Databases(),
		SecretSync: p.SecretSync,
		Apps: []database.AdminApp{
			{Logins: p.AirbyteLogins, JobName: p.name("airbyte-logins"), Databases: airbyte.TemporalDatabases, CreateDatabases: true},
			{Logins: p.AirflowLogins, JobName: p.name("airflow-logins")},
		},
		CABundle:      p.Env.CABundle,
		MajorVersion:  p.Config.Database.MajorVersion(),
		DatabaseCIDRs: p.Net.CIDRs.Database,
		Tolerations:   tolerations,
		WaitFor:       nodes,
	}, pulumi.Providers(p.Kubernetes))
	if err != nil {
		return nil, err
	}
	out := map[string]pulumi.Resource{}
	for app, job := range p.DBAdmin.Jobs {
		out[app] = job
	}
	return out, nil
}

// deploySecretsAndStorage creates the platform key, the generated secrets
// and the buckets. None of them waits for the network or the cluster.
func (p *Platform) deploySecretsAndStorage(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Secrets, err = secrets.NewSecrets(ctx, p.name("secrets"), &secrets.SecretsArgs{Config: cfg.Secrets, Prefix: cfg.Name, NoAdminPassword: cfg.SSO.Enabled, AccountID: account, Tags: tags})
	if err != nil {
		return err
	}
	if err := p.deploySignIn(ctx, account, tags); err != nil {
		return err
	}
	// Bucket names are global: the account ID keeps them unique.
	p.AirbyteBucket, err = storage.NewBucket(ctx, p.name("airbyte-bucket"), &storage.BucketArgs{
		Config:      cfg.Storage,
		BucketName:  fmt.Sprintf("%s-airbyte-%s", cfg.Name, account),
		KMSKeyARN:   p.Secrets.KeyARN,
		LogPrefixes: []string{airbyte.LogPrefix},
		Tags:        tags,
	})
	if err != nil {
		return err
	}
	p.AirflowLogBucket, err = storage.NewBucket(ctx, p.name("airflow-log-bucket"), &storage.BucketArgs{
		Config:      cfg.Storage,
		BucketName:  fmt.Sprintf("%s-airflow-logs-%s", cfg.Name, account),
		KMSKeyARN:   p.Secrets.KeyARN,
		LogPrefixes: []string{""},
		Tags:        tags,
	})
	return err
}

// deployData creates each app's database and its logins.
func (p *Platform) deployData(ctx *pulumi.Context, tags map[string]string) error {
	cfg := p.Config
	var err error
	db := func(resource, label, dbName, master string) (*database.Postgres, error) {
		return database.NewPostgres(ctx, resource, &database.PostgresArgs{
			Config:                cfg.Database,
			Identifier:            cfg.Name + "-" + label,
			DatabaseName:          dbName,
			MasterUsername:        master,
			VpcID:                 p.Net.VpcID,
			SubnetIDs:             p.Net.DatabaseSubnetIDs,
			ClientSecurityGroupID: p.Cluster.NodeSecurityGroupID,
			KMSKeyARN:             p.Secrets.KeyARN,
			Tags:                  tags,
		})
	}
	if cfg.Database.SharedInstance {
		// One instance, no database of its own: each app's login job makes
		// the app's.
		shared, err := db(p.name("apps-db"), "apps", "", "platform_admin")
		if err != nil {
			return err
		}
		p.AirbyteDB, p.AirflowDB = shared, shared
	} else {
		if p.AirbyteDB, err = db(p.name("airbyte-db"), "airbyte", "airbyte", "airbyte"); err != nil {
			return err
		}
		if p.AirflowDB, err = db(p.name("airflow-db"), "airflow", "airflow", "airflow"); err != nil {
			return err
		}
	}
	logins := func(resource, app string, db *database.Postgres) (*database.Logins, error) {
		return database.NewLogins(ctx, resource, &database.LoginsArgs{
			Database: db, App: app, DatabaseName: app, SecretPrefix: cfg.Name + "/" + app, Generation: cfg.Database.LoginGeneration,
			KMSKeyARN: p.Secrets.KeyARN, RecoveryWindowDays: *cfg.Secrets.RecoveryWindowDays, Tags: tags,
		})
	}
	if p.AirbyteLogins, err = logins(p.name("airbyte-logins"), "airbyte", p.AirbyteDB); err != nil {
		return err
	}
	if p.AirflowLogins, err = logins(p.name("airflow-logins"), "airflow", p.AirflowDB); err != nil {
		return err
	}
	return nil
}
