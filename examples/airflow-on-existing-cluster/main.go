// Command airflow-on-existing-cluster is an example program that adds just
// Airflow to an EKS cluster you already run: its PostgreSQL database, log
// bucket, generated secrets and IRSA role, the External Secrets Operator
// that syncs the credentials, and the Airflow release.
//
//	pulumi config set --secret kubeconfig "$(cat kubeconfig.json)"
//	pulumi config set oidcProviderArn arn:aws:iam::123456789012:oidc-provider/oidc.eks...
//	pulumi config set oidcIssuer oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE
//	pulumi config set vpcId vpc-...; pulumi config set --path 'databaseSubnetIds[0]' subnet-...
//	pulumi config set nodeSecurityGroupId sg-...; pulumi config set host airflow.example.com
//	# the region's RDS CA bundle, fetched once and committed:
//	pulumi config set caBundleFile us-east-1-bundle.pem   # go run ./cmd/rds-ca -region us-east-1 -out us-east-1-bundle.pem
//	# where the load balancers and the interface endpoints are, for the NetworkPolicies:
//	pulumi config set --path 'loadBalancerCidrs[0]' 10.0.128.0/26; pulumi config set --path 'endpointCidrs[0]' 10.0.0.0/19
//	pulumi up
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dataplatform/dataplatform/components/airflow"
	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/components/netpol"
	"github.com/dataplatform/dataplatform/components/network"
	"github.com/dataplatform/dataplatform/components/secrets"
	"github.com/dataplatform/dataplatform/components/secretsync"
	"github.com/dataplatform/dataplatform/components/storage"
)

// chartDir holds the chart archives the releases install, relative to this
// program's directory: the ones the repository vendors. A program of your
// own vendors them beside it (scripts/vendor-chart.sh) or points here.
const chartDir = "../../charts"

func main() {
	pulumi.Run(program)
}

// caBundle returns RDS's certificate authorities for the region, which
// PgBouncer and the login job verify the database against: the file
// config caBundleFile names (fetch it once with `go run ./cmd/rds-ca
// -region <region>` and commit it, so that it changes only on purpose).
func caBundle(cfg *config.Config, region string) (string, error) {
	f := cfg.Require("caBundleFile")
	bundle, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("caBundleFile: %w; fetch it with `go run ./cmd/rds-ca -region %s -out %s`", err, region, f)
	}
	if err := database.CheckCABundle(bundle, region, f); err != nil {
		return "", err
	}
	return string(bundle), nil
}

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	platform := cfg.Get("platform")
	if platform == "" {
		platform = "analytics"
	}
	var dbSubnets []string
	cfg.RequireObject("databaseSubnetIds", &dbSubnets)
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return err
	}
	tags := map[string]string{"Project": ctx.Project(), "Environment": ctx.Stack(), "ManagedBy": "pulumi"}

	d, err := dataLayer(ctx, cfg, platform, caller.AccountId, dbSubnets, tags)
	if err != nil {
		return err
	}
	sec, logs, db, logins := d.secrets, d.logs, d.db, d.logins
	oidcARN, issuer := pulumi.String(cfg.Require("oidcProviderArn")), pulumi.String(cfg.Require("oidcIssuer"))
	k8s, err := kubernetes.NewProvider(ctx, "cluster", &kubernetes.ProviderArgs{Kubeconfig: cfg.RequireSecret("kubeconfig")})
	if err != nil {
		return err
	}
	sync, err := secretsync.NewOperator(ctx, "secret-sync", &secretsync.OperatorArgs{
		ChartDir:        chartDir,
		Config:          secretsync.Config{ChartVersion: "2.9.0"},
		Region:          region.Name,
		OIDCProviderARN: oidcARN,
		OIDCIssuer:      issuer,
		KMSKeyARN:       sec.KeyARN,
		Tags:            tags,
	}, pulumi.Providers(k8s))
	if err != nil {
		return err
	}
	bundle, err := caBundle(cfg, region.Name)
	if err != nil {
		return err
	}
	pods, err := podNetwork(ctx, cfg, dbSubnets)
	if err != nil {
		return err
	}
	// The job that makes the logins runs where no app does: it reads the
	// master password.
	admin, err := database.NewAdmin(ctx, "db-admin", &database.AdminArgs{
		Databases: []*database.Postgres{db}, Apps: []database.AdminApp{{Logins: logins}}, SecretSync: sync,
		CABundle: bundle, MajorVersion: "17", DatabaseCIDRs: pods.Database,
	}, pulumi.Providers(k8s))
	if err != nil {
		return err
	}
	af, err := airflow.NewAirflow(ctx, "airflow", &airflow.AirflowArgs{
		Logins:                logins,
		LoginJob:              admin.Jobs["airflow"],
		ChartDir:              chartDir,
		Config:                airflow.Config{ChartVersion: "1.21.0", Host: cfg.Require("host")},
		Platform:              platform,
		Region:                region.Name,
		Database:              db,
		LogBucketName:         logs.Name,
		LogBucketARN:          logs.ARN,
		LogBucketReady:        logs.Ready,
		KMSKeyARN:             sec.KeyARN,
		OIDCProviderARN:       oidcARN,
		OIDCIssuer:            issuer,
		AccountID:             caller.AccountId,
		PlatformSecretARN:     sec.AirflowSecretARN,
		CABundle:              bundle,
		SecretSync:            sync,
		SnapshotBeforeUpgrade: true,
		Network:               pods,
		Tags:                  tags,
	}, pulumi.Providers(k8s))
	if err != nil {
		return err
	}
	ctx.Export("airflowUrl", af.URL)
	return nil
}

// data are the AWS resources Airflow keeps its state in.
type data struct {
	secrets *secrets.Secrets
	logs    *storage.Bucket
	db      *database.Postgres
	logins  *database.Logins
}

// dataLayer makes the platform key and generated secrets, the log bucket,
// the database and Airflow's own logins.
func dataLayer(ctx *pulumi.Context, cfg *config.Config, platform, account string, dbSubnets []string, tags map[string]string) (*data, error) {
	sec, err := secrets.NewSecrets(ctx, "secrets", &secrets.SecretsArgs{Prefix: platform, AccountID: account, Tags: tags})
	if err != nil {
		return nil, err
	}
	logs, err := storage.NewBucket(ctx, "airflow-logs", &storage.BucketArgs{
		BucketName:  fmt.Sprintf("%s-airflow-logs-%s", platform, account),
		KMSKeyARN:   sec.KeyARN,
		LogPrefixes: []string{""},
		Tags:        tags,
	})
	if err != nil {
		return nil, err
	}
	db, err := database.NewPostgres(ctx, "airflow-db", &database.PostgresArgs{
		Config:                database.Config{EngineVersion: "17"},
		Identifier:            platform + "-airflow",
		DatabaseName:          "airflow",
		MasterUsername:        "airflow",
		VpcID:                 pulumi.String(cfg.Require("vpcId")),
		SubnetIDs:             pulumi.ToStringArray(dbSubnets),
		ClientSecurityGroupID: pulumi.String(cfg.Require("nodeSecurityGroupId")),
		KMSKeyARN:             sec.KeyARN,
		Tags:                  tags,
	})
	if err != nil {
		return nil, err
	}
	// Airflow's own logins: it never connects as the RDS master user.
	logins, err := database.NewLogins(ctx, "airflow-logins", &database.LoginsArgs{
		Database: db, App: "airflow", SecretPrefix: platform + "/airflow", KMSKeyARN: sec.KeyARN, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	return &data{secrets: sec, logs: logs, db: db, logins: logins}, nil
}

// podNetwork is where the load balancers, databases and interface
// endpoints are, for the namespaces' NetworkPolicies (the cluster's VPC CNI
// must enforce them: enableNetworkPolicy).
func podNetwork(ctx *pulumi.Context, cfg *config.Config, dbSubnets []string) (*netpol.Network, error) {
	var pods netpol.Network
	cfg.RequireObject("loadBalancerCidrs", &pods.LoadBalancers)
	cfg.RequireObject("endpointCidrs", &pods.Endpoints)
	cidrs, err := network.ExistingCIDRs(ctx, network.ExistingNetwork{DatabaseSubnetIDs: dbSubnets})
	if err != nil {
		return nil, err
	}
	pods.Database = cidrs.Database
	return &pods, nil
}
