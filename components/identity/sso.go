package identity

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cognito"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/tags"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// SignInTypeToken is the Pulumi type of the SignIn component.
const SignInTypeToken = "dataplatform:sso:SignIn"

// SSOConfig is the plain configuration of single sign-on (dataplatform:sso);
// see stackconfig.SSO for every field and default.
type SSOConfig = stackconfig.SSO

// SignInApp is an application users sign in to through the pool.
type SignInApp struct {
	// Name names the app client, such as "airflow".
	Name string
	// CallbackURLs are where Cognito may send users back after sign-in
	// (https only).
	CallbackURLs []string
	// LogoutURLs are where Cognito may send users after signing out.
	LogoutURLs []string
	// StoreSecret keeps the client's secret in Secrets Manager, for an app
	// that exchanges codes itself (Airflow); the load balancer reads its
	// client's secret from Cognito itself.
	StoreSecret bool
}

// SignInArgs are the inputs of NewSignIn.
type SignInArgs struct {
	// Config is the SSO config, with defaults applied. Required: Enabled.
	Config SSOConfig
	// Platform names the pool. Required.
	Platform string
	// Apps are the app clients to create. Required.
	Apps []SignInApp
	// SecretPrefix starts the names of the client secrets kept in Secrets
	// Manager ("<prefix><app>-client-"); KMSKeyARN encrypts them.
	SecretPrefix string
	KMSKeyARN    pulumi.StringInput
	// RecoveryWindowDays of those secrets (0 deletes them at once).
	RecoveryWindowDays int
	Tags               map[string]string
}

// SignIn is a Cognito user pool with its hosted domain, the groups that
// map to Airflow's roles and to Airbyte, and an app client per app.
type SignIn struct {
	pulumi.ResourceState

	// Pool is the user pool; PoolID and PoolARN identify it.
	Pool    *cognito.UserPool
	PoolID  pulumi.StringOutput `pulumi:"poolId"`
	PoolARN pulumi.StringOutput `pulumi:"poolArn"`
	// Domain is the hosted domain's prefix; DomainReady its resource.
	Domain      string
	DomainReady pulumi.Resource
	// Region is the pool's region.
	Region string
	// Clients are the app clients, by app name.
	Clients map[string]*cognito.UserPoolClient
	// ClientSecretARNs are the Secrets Manager secrets of the clients
	// whose app asked for one, by app name; ClientSecretReady their values,
	// for DependsOn.
	ClientSecretARNs  map[string]pulumi.StringOutput
	ClientSecretReady map[string]pulumi.Resource
	// Groups are the pool's groups, by name.
	Groups map[string]*cognito.UserGroup
}

// Issuer is the pool's OIDC issuer URL.
func (s *SignIn) Issuer() pulumi.StringOutput {
	return pulumi.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", s.Region, s.PoolID)
}

// HostedDomain is the host of the pool's sign-in pages.
func (s *SignIn) HostedDomain() string {
	return fmt.Sprintf("%s.auth.%s.amazoncognito.com", s.Domain, s.Region)
}

// NewSignIn creates the user pool, its domain, groups, the federated
// identity provider (if configured) and the app clients.
func NewSignIn(ctx *pulumi.Context, name string, region string, args *SignInArgs, opts ...pulumi.ResourceOption) (*SignIn, error) {
	if args == nil || !args.Config.Enabled || args.Config.DomainPrefix == "" || args.Platform == "" || len(args.Apps) == 0 || region == "" {
		return nil, fmt.Errorf("sign-in %s: an enabled config with a domain prefix, the platform, the region and at least one app are required", name)
	}
	cfg := args.Config
	if err := cfg.Validate().Err(); err != nil {
		return nil, err
	}
	s := &SignIn{Domain: cfg.DomainPrefix, Region: region, Clients: map[string]*cognito.UserPoolClient{},
		ClientSecretARNs: map[string]pulumi.StringOutput{}, ClientSecretReady: map[string]pulumi.Resource{}, Groups: map[string]*cognito.UserGroup{}}
	if err := ctx.RegisterComponentResource(SignInTypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	pool, err := newPool(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	s.Pool, s.PoolID, s.PoolARN = pool, pool.ID().ToStringOutput(), pool.Arn
	domain, err := cognito.NewUserPoolDomain(ctx, name, &cognito.UserPoolDomainArgs{
		Domain: pulumi.String(cfg.DomainPrefix), UserPoolId: pool.ID(),
	}, parent)
	if err != nil {
		return nil, err
	}
	s.DomainReady = domain
	if err := s.groups(ctx, name, parent); err != nil {
		return nil, err
	}
	providers := pulumi.StringArray{pulumi.String("COGNITO")}
	var clientDeps []pulumi.Resource
	if e := cfg.ExternalProvider; e != nil {
		idp, err := externalProvider(ctx, name, pool, e, parent)
		if err != nil {
			return nil, err
		}
		providers = pulumi.StringArray{idp.ProviderName}
		clientDeps = append(clientDeps, idp)
	}
	for _, app := range args.Apps {
		if err := s.client(ctx, name, app, providers, args, parent, clientDeps); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"poolId": s.PoolID, "poolArn": s.PoolARN}); err != nil {
		return nil, err
	}
	return s, nil
}

// newPool creates the pool: invitation only (no self sign-up), e-mail as
// the user name, MFA and password policy from config, deletion protection
// when protected, and a custom "groups" attribute that carries the groups
// an external identity provider sends.
func newPool(ctx *pulumi.Context, name string, args *SignInArgs, parent pulumi.ResourceOption) (*cognito.UserPool, error) {
	cfg := args.Config
	protection := "INACTIVE"
	if cfg.Protect {
		protection = "ACTIVE"
	}
	poolArgs := &cognito.UserPoolArgs{
		Name:                   pulumi.String(args.Platform),
		DeletionProtection:     pulumi.String(protection),
		UsernameAttributes:     pulumi.ToStringArray([]string{"email"}),
		AutoVerifiedAttributes: pulumi.ToStringArray([]string{"email"}),
		AdminCreateUserConfig:  &cognito.UserPoolAdminCreateUserConfigArgs{AllowAdminCreateUserOnly: pulumi.Bool(true)},
		MfaConfiguration:       pulumi.String(cfg.MFA),
		PasswordPolicy: &cognito.UserPoolPasswordPolicyArgs{
			MinimumLength:                 pulumi.Int(cfg.Password.MinLength),
			RequireLowercase:              pulumi.Bool(true),
			RequireUppercase:              pulumi.Bool(true),
			RequireNumbers:                pulumi.Bool(true),
			RequireSymbols:                pulumi.Bool(true),
			TemporaryPasswordValidityDays: pulumi.Int(cfg.Password.TemporaryPasswordDays),
		},
		AccountRecoverySetting: &cognito.UserPoolAccountRecoverySettingArgs{
			RecoveryMechanisms: cognito.UserPoolAccountRecoverySettingRecoveryMechanismArray{
				&cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs{Name: pulumi.String("verified_email"), Priority: pulumi.Int(1)},
			},
		},
		Schemas: cognito.UserPoolSchemaArray{&cognito.UserPoolSchemaArgs{
			Name: pulumi.String("groups"), AttributeDataType: pulumi.String("String"), Mutable: pulumi.Bool(true),
			StringAttributeConstraints: &cognito.UserPoolSchemaStringAttributeConstraintsArgs{MinLength: pulumi.String("0"), MaxLength: pulumi.String("2048")},
		}},
		Tags: tags.Named(args.Tags, args.Platform),
	}
	if cfg.MFA != "OFF" {
		// MFA needs a method: an authenticator app (no SMS, no SNS role).
		poolArgs.SoftwareTokenMfaConfiguration = &cognito.UserPoolSoftwareTokenMfaConfigurationArgs{Enabled: pulumi.Bool(true)}
	}
	return cognito.NewUserPool(ctx, name, poolArgs, parent, pulumi.Protect(cfg.Protect))
}

// groups creates a group per Airflow role and the Airbyte group.
func (s *SignIn) groups(ctx *pulumi.Context, name string, parent pulumi.ResourceOption) error {
	roles := make([]string, 0, len(stackconfig.AirflowRoles))
	for r := range stackconfig.AirflowRoles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	about := map[string]string{stackconfig.AirbyteGroup: "May use Airbyte (the load balancer signs members in)"}
	for _, r := range roles {
		about[stackconfig.AirflowRoles[r]] = "Airflow role " + r
	}
	names := make([]string, 0, len(about))
	for g := range about {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		grp, err := cognito.NewUserGroup(ctx, name+"-"+g, &cognito.UserGroupArgs{
			Name: pulumi.String(g), UserPoolId: s.Pool.ID(), Description: pulumi.String(about[g]),
		}, parent)
		if err != nil {
			return err
		}
		s.Groups[g] = grp
	}
	return nil
}

// externalProvider federates an OIDC provider. Its client secret is read
// from Secrets Manager at deploy and passed to Cognito as a Pulumi secret.
func externalProvider(ctx *pulumi.Context, name string, pool *cognito.UserPool, e *stackconfig.ExternalIdentityProvider, parent pulumi.ResourceOption) (*cognito.IdentityProvider, error) {
	secret := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{SecretId: pulumi.String(e.ClientSecretARN)})
	return cognito.NewIdentityProvider(ctx, name+"-"+e.Name, &cognito.IdentityProviderArgs{
		UserPoolId:   pool.ID(),
		ProviderName: pulumi.String(e.Name),
		ProviderType: pulumi.String("OIDC"),
		ProviderDetails: pulumi.StringMap{
			"client_id":                 pulumi.String(e.ClientID),
			"client_secret":             pulumi.ToSecret(secret.SecretString()).(pulumi.StringOutput),
			"authorize_scopes":          pulumi.String("openid email profile"),
			"oidc_issuer":               pulumi.String(e.Issuer),
			"attributes_request_method": pulumi.String("GET"),
		},
		AttributeMapping: pulumi.StringMap{
			"email":         pulumi.String("email"),
			"username":      pulumi.String("sub"),
			"custom:groups": pulumi.String(e.GroupsClaim),
		},
	}, parent)
}

// MappedAttributes are the pool attributes an external provider's
// attribute mapping fills ("username" is the user's name, not an
// attribute): every app client must be allowed to write them, or Cognito
// fails the federated sign-in (UserPoolClientType WriteAttributes: "this
// array must include all attributes that you have mapped to IdP
// attributes").
var MappedAttributes = []string{"email", "custom:groups"}

// ReadAttributes are what the apps read of a user from the pool's tokens:
// the e-mail, the names, and the custom:groups attribute, which carries a
// federated user's groups. Custom attributes are in no client's tokens
// unless listed (UserPoolClientType ReadAttributes: without it "your app
// can read the values of email_verified, phone_number_verified, and the
// standard attributes"); the test bed found a federated user's groups
// missing from Airflow's sign-in.
var ReadAttributes = []string{"email", "email_verified", "family_name", "given_name", "custom:groups"}

// client creates an app's client: the authorization code flow with
// OpenID scopes, a secret, and short-lived tokens.
func (s *SignIn) client(ctx *pulumi.Context, name string, app SignInApp, providers pulumi.StringArray, args *SignInArgs, parent pulumi.ResourceOption, deps []pulumi.Resource) error {
	clientArgs := &cognito.UserPoolClientArgs{
		Name:                            pulumi.String(app.Name),
		UserPoolId:                      s.Pool.ID(),
		GenerateSecret:                  pulumi.Bool(true),
		AllowedOauthFlowsUserPoolClient: pulumi.Bool(true),
		AllowedOauthFlows:               pulumi.ToStringArray([]string{"code"}),
		AllowedOauthScopes:              pulumi.ToStringArray([]string{"openid", "email", "profile"}),
		CallbackUrls:                    pulumi.ToStringArray(app.CallbackURLs),
		LogoutUrls:                      pulumi.ToStringArray(app.LogoutURLs),
		SupportedIdentityProviders:      providers,
		ReadAttributes:                  pulumi.ToStringArray(ReadAttributes),
		ExplicitAuthFlows:               pulumi.ToStringArray([]string{"ALLOW_REFRESH_TOKEN_AUTH"}),
		PreventUserExistenceErrors:      pulumi.String("ENABLED"),
		IdTokenValidity:                 pulumi.Int(60),
		AccessTokenValidity:             pulumi.Int(60),
		RefreshTokenValidity:            pulumi.Int(12),
		TokenValidityUnits: &cognito.UserPoolClientTokenValidityUnitsArgs{
			IdToken: pulumi.String("minutes"), AccessToken: pulumi.String("minutes"), RefreshToken: pulumi.String("hours"),
		},
	}
	if args.Config.ExternalProvider != nil {
		// Users sign in through the federated provider: the client must
		// write what its mapping fills.
		clientArgs.WriteAttributes = pulumi.ToStringArray(MappedAttributes)
	}
	c, err := cognito.NewUserPoolClient(ctx, name+"-"+app.Name, clientArgs, parent, pulumi.DependsOn(deps))
	if err != nil {
		return err
	}
	s.Clients[app.Name] = c
	if !app.StoreSecret {
		return nil
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-"+app.Name+"-client", &secretsmanager.SecretArgs{
		NamePrefix:           pulumi.String(args.SecretPrefix + app.Name + "/sso-client-"),
		Description:          pulumi.String("Cognito client secret of " + app.Name),
		KmsKeyId:             args.KMSKeyARN,
		RecoveryWindowInDays: pulumi.Int(args.RecoveryWindowDays),
		Tags:                 tags.Named(args.Tags, args.SecretPrefix+app.Name+"/sso-client"),
	}, parent)
	if err != nil {
		return err
	}
	version, err := secretsmanager.NewSecretVersion(ctx, name+"-"+app.Name+"-client", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: c.ClientSecret,
	}, parent)
	if err != nil {
		return err
	}
	s.ClientSecretARNs[app.Name] = secret.Arn
	s.ClientSecretReady[app.Name] = version
	return nil
}
