package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/airbyte"
	"github.com/dataplatform/dataplatform/components/airflow"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/components/images"
	"github.com/dataplatform/dataplatform/components/ingress"
	"github.com/dataplatform/dataplatform/components/observability"
)

// The operations layer: sign-in, monitoring and the audit trail.

// deploySignIn creates the Cognito user pool of single sign-on, with an
// app client for each app whose callback is the app's address.
func (p *Platform) deploySignIn(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	if !cfg.SSO.Enabled {
		return nil
	}
	sso := cfg.SSO
	if sso.DomainPrefix == "" {
		// Unique across accounts: the name alone may be taken elsewhere.
		sso.DomainPrefix = cfg.Name + "-" + account
	}
	in := cfg.Apps.Ingress
	airflowURL, airbyteURL := ingress.URL(in, cfg.Apps.Airflow.Host), ingress.URL(in, cfg.Apps.Airbyte.Host)
	var err error
	p.SignIn, err = identity.NewSignIn(ctx, p.name("sso"), cfg.Region, &identity.SignInArgs{
		Config:   sso,
		Platform: cfg.Name,
		// Each app says what client it needs.
		Apps:               []identity.SignInApp{airflow.SignInClient(airflowURL), airbyte.SignInClient(airbyteURL)},
		SecretPrefix:       cfg.Name + "/",
		KMSKeyARN:          p.Secrets.KeyARN,
		RecoveryWindowDays: *cfg.Secrets.RecoveryWindowDays,
		Tags:               tags,
	})
	return err
}

// deployOperations creates the audit trail, the monitoring (add-on, log groups, alarms,
// topic) and the image repositories.
func (p *Platform) deployOperations(ctx *pulumi.Context, account string, tags map[string]string) error {
	cfg := p.Config
	var err error
	p.Audit, err = observability.NewAuditTrail(ctx, p.name("audit"), &observability.AuditTrailArgs{
		Platform: cfg.Name, Region: cfg.Region, AccountID: account,
		DataBucketARNs: []pulumi.StringInput{p.AirbyteBucket.ARN, p.AirflowLogBucket.ARN},
		KMSKeyARN:      p.Secrets.KeyARN,
		Storage:        cfg.Storage,
		Tags:           tags,
	})
	if err != nil {
		return err
	}
	p.Monitoring, err = observability.NewMonitoring(ctx, p.name("monitoring"), &observability.MonitoringArgs{
		Config:                cfg.Observability,
		ClusterName:           cfg.Name,
		OIDCProviderARN:       p.Cluster.OIDCProviderARN,
		OIDCIssuer:            p.Cluster.OIDCIssuer,
		AddonVersion:          cfg.Cluster.Addons.CloudWatchObservability,
		Nodes:                 []pulumi.Resource{p.Cluster.CoreNodeGroup},
		KMSKeyARN:             p.Secrets.KeyARN,
		Databases:             p.Databases(),
		InterruptionQueueName: p.KarpenterAWS.QueueName,
		Tags:                  tags,
	})
	if err != nil {
		return err
	}
	p.Images, err = images.NewRepositories(ctx, p.name("images"), &images.RepositoriesArgs{
		Config:    cfg.Images,
		Prefix:    cfg.Name,
		KMSKeyARN: p.Secrets.KeyARN,
		Protect:   cfg.Storage.Protect,
		Tags:      tags,
	})
	return err
}
