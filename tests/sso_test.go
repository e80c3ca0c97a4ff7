package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataplatform/dataplatform/plan"
)

func TestProdSignsUsersInThroughCognitoAndDevDoesNot(t *testing.T) {
	p := stackPlan(t, "prod")
	pools := p.Find("aws:cognito/userPool:UserPool")
	require.Len(t, pools, 1)
	pool := pools[0]
	assert.True(t, pool.Protect, "prod's users survive pulumi destroy")
	assert.Equal(t, "ACTIVE", pool.Inputs["deletionProtection"])
	assert.Equal(t, "ON", pool.Inputs["mfaConfiguration"])
	assert.Equal(t, true, plan.At(pool.Inputs, "softwareTokenMfaConfiguration", "enabled"), "MFA needs a method")
	assert.Equal(t, true, plan.At(pool.Inputs, "adminCreateUserConfig", "allowAdminCreateUserOnly"), "invitation only")
	assert.EqualValues(t, 14, plan.At(pool.Inputs, "passwordPolicy", "minimumLength"))
	assert.Len(t, p.Find("aws:cognito/userPoolDomain:UserPoolDomain"), 1)
	var groups []string
	for _, g := range p.Find("aws:cognito/userGroup:UserGroup") {
		groups = append(groups, str(g.Inputs, "name"))
	}
	assert.ElementsMatch(t, []string{"airflow-admin", "airflow-op", "airflow-user", "airflow-viewer", "airbyte"}, groups)
	clients := map[string]plan.Resource{}
	for _, c := range p.Find("aws:cognito/userPoolClient:UserPoolClient") {
		clients[str(c.Inputs, "name")] = c
		assert.Equal(t, []any{"code"}, c.Inputs["allowedOauthFlows"])
		assert.Equal(t, true, c.Inputs["generateSecret"])
	}
	require.Contains(t, clients, "airflow")
	require.Contains(t, clients, "airbyte")
	assert.Equal(t, []any{"https://airflow.data.example.com/auth/oauth-authorized/cognito"}, clients["airflow"].Inputs["callbackUrls"])
	assert.Equal(t, []any{"https://airbyte.data.example.com/oauth2/idpresponse"}, clients["airbyte"].Inputs["callbackUrls"])

	dev := stackPlan(t, "dev")
	assert.Empty(t, dev.Find("aws:cognito/userPool:UserPool"), "dev keeps SSO off")
	assert.Contains(t, mustJSON(t, values(t, dev, "airflow")["createUserJob"]), `"admin-password"`, "without SSO, the first admin's password comes from its Secret")
}

func TestAirflowSignsInWithOAuthAndCreatesNoAdmin(t *testing.T) {
	p := stackPlan(t, "prod")
	v := values(t, p, "airflow")
	api := v["apiServer"].(map[string]any)
	config, _ := api["apiServerConfig"].(string)
	for _, want := range []string{
		"AUTH_TYPE = AUTH_OAUTH",
		`"airflow-admin": ["Admin"]`, `"airflow-viewer": ["Viewer"]`,
		`AUTH_USER_REGISTRATION_ROLE = "Public"`,
		`os.environ["AIRFLOW_SSO_CLIENT_SECRET"]`,
		"SECURITY_MANAGER_CLASS = CognitoSecurityManager",
		"https://cognito-idp.us-east-1.amazonaws.com/",
		`client_id="` + recordID(t, p, "aws:cognito/userPoolClient:UserPoolClient", "sso-airflow") + `"`,
	} {
		assert.Contains(t, config, want)
	}
	assert.NotContains(t, config, "{{", "the chart renders the file through tpl")
	assert.Contains(t, api["env"], map[string]any{"name": "AIRFLOW_SSO_CLIENT_SECRET",
		"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "airflow-sso", "key": "client-secret"}}})
	assert.Equal(t, false, plan.At(v, "createUserJob", "enabled"), "no first admin with SSO")
	// The rendered chart mounts the file into the API server and runs no
	// create-user job.
	rel := release(t, p, "airflow")
	var mounted, job bool
	for _, o := range p.Objects(rel.URN) {
		if o.Kind == "ConfigMap" && strings.Contains(mustJSON(t, o.Body), "CognitoSecurityManager") {
			mounted = true
		}
		if o.Kind == "Job" && strings.Contains(o.Name, "create-user") {
			job = true
		}
	}
	assert.True(t, mounted, "the chart renders webserver_config.py")
	assert.False(t, job, "no create-user job")
	// No admin password is generated at all.
	sv := findByName(t, p, "aws:secretsmanager/secretVersion:SecretVersion", "secrets-airflow")
	assert.Equal(t, "[secret]", sv.Inputs["secretString"])
	for _, r := range p.Records() {
		if r.Type == "random:index/randomPassword:RandomPassword" {
			assert.NotContains(t, r.Name, "admin-password", "with SSO no admin password exists")
		}
	}
	// The client secret reaches the pods through the namespace's store,
	// and the leak test sees it (it is a generated secret).
	es := findByName(t, p, "kubernetes:external-secrets.io/v1:ExternalSecret", "airflow-sso")
	assert.Contains(t, es.Dependencies, findByName(t, p, "aws:secretsmanager/secretVersion:SecretVersion", "sso-airflow-client").URN)
	for _, r := range p.Records() {
		if r.Type == "aws:cognito/userPoolClient:UserPoolClient" {
			require.True(t, r.Outputs["clientSecret"].IsSecret(), "Cognito's client secret is a Pulumi secret")
			assert.Contains(t, p.GeneratedSecrets(), r.Outputs["clientSecret"].SecretValue().Element.StringValue())
		}
	}
}

func TestAirbyteIsBehindTheLoadBalancersCognitoSignIn(t *testing.T) {
	p := stackPlan(t, "prod")
	v := values(t, p, "airbyte")
	a := plan.At(v, "ingress", "annotations").(map[string]any)
	assert.Equal(t, "cognito", a["alb.ingress.kubernetes.io/auth-type"])
	assert.Equal(t, "authenticate", a["alb.ingress.kubernetes.io/auth-on-unauthenticated-request"])
	var idp map[string]any
	require.NoError(t, json.Unmarshal([]byte(a["alb.ingress.kubernetes.io/auth-idp-cognito"].(string)), &idp))
	assert.Equal(t, findRecordOutput(t, p, "aws:cognito/userPool:UserPool", "sso", "arn"), idp["userPoolARN"])
	assert.Equal(t, recordID(t, p, "aws:cognito/userPoolClient:UserPoolClient", "sso-airbyte"), idp["userPoolClientID"])
	assert.Equal(t, "dataplatform-prod-123456789012", idp["userPoolDomain"], "prefixes are unique across accounts: the account ID keeps ours free")
	assert.Equal(t, false, plan.At(v, "global", "auth", "enabled"), "Airbyte's own single-admin login is off behind SSO")
	// The rendered Ingress carries them (the controller reads the object).
	rel := release(t, p, "airbyte")
	found := false
	for _, o := range p.Objects(rel.URN) {
		if o.Kind == "Ingress" {
			found = true
			assert.Equal(t, "cognito", plan.StringAt(o.Body, "metadata", "annotations", "alb.ingress.kubernetes.io/auth-type"))
		}
	}
	assert.True(t, found)
	assert.Nil(t, plan.At(values(t, stackPlan(t, "dev"), "airbyte"), "ingress", "annotations", "alb.ingress.kubernetes.io/auth-type"))
}

func TestBadSSOConfigIsRefusedWithEveryProblem(t *testing.T) {
	opts := stackOptions(t, "dev")
	setSection(t, opts, "dataplatform:sso", map[string]any{
		"enabled": true, "domainPrefix": "my-cognito-login", "mfa": "SOMETIMES",
		"password":         map[string]any{"minLength": 4},
		"externalProvider": map[string]any{"name": "Cognito", "issuer": "http://idp.example.com", "clientSecretArn": "secret"},
	})
	p, err := plan.Run(opts)
	require.Error(t, err)
	for _, want := range []string{
		"sso.enabled: true, but the apps are served over plain HTTP",
		`sso.domainPrefix: "my-cognito-login" holds "cognito"`,
		`sso.mfa: want`, "sso.password.minLength", "sso.externalProvider.name", "sso.externalProvider.issuer",
		"sso.externalProvider.clientId", "sso.externalProvider.clientSecretArn",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, p.Resources, "nothing may be created from bad config")
}

func TestAnExternalIdentityProviderIsFederatedWithItsSecretKeptSecret(t *testing.T) {
	opts := stackOptions(t, "prod")
	setSection(t, opts, "dataplatform:sso", map[string]any{
		"enabled": true, "protect": true,
		"externalProvider": map[string]any{"name": "Okta", "issuer": "https://example.okta.com", "clientId": "0oa1example",
			"clientSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dataplatform-prod/sso/okta-AbCdEf"},
	})
	p, err := plan.Run(opts)
	require.NoError(t, err)
	idps := p.Find("aws:cognito/identityProvider:IdentityProvider")
	require.Len(t, idps, 1)
	assert.Equal(t, "[secret]", plan.At(idps[0].Inputs, "providerDetails", "client_secret"), "the IdP's client secret is a Pulumi secret")
	assert.Equal(t, "groups", plan.At(idps[0].Inputs, "attributeMapping", "custom:groups"))
	for _, c := range p.Find("aws:cognito/userPoolClient:UserPoolClient") {
		assert.Equal(t, []any{"Okta"}, c.Inputs["supportedIdentityProviders"])
	}
}

// A federated user's groups reach Airflow only if the Airflow client may
// read custom:groups, and the user signs in at all only if every client
// may write what the provider's mapping fills (the test bed found both
// missing: Cognito's defaults cover the standard attributes only).
func TestTheSignInClientsReadAndWriteWhatTheAppsUse(t *testing.T) {
	opts := stackOptions(t, "prod")
	setSection(t, opts, "dataplatform:sso", map[string]any{
		"enabled": true, "protect": true,
		"externalProvider": map[string]any{"name": "Okta", "issuer": "https://example.okta.com", "clientId": "0oa1example",
			"clientSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dataplatform-prod/sso/okta-AbCdEf"},
	})
	p, err := plan.Run(opts)
	require.NoError(t, err, "the fake AWS accepts the clients (rule across/cognito-mapped-attributes)")
	for _, c := range p.Find("aws:cognito/userPoolClient:UserPoolClient") {
		assert.Contains(t, c.Inputs["readAttributes"], "custom:groups", c.Name)
		assert.Subset(t, c.Inputs["writeAttributes"], []any{"email", "custom:groups"}, c.Name)
	}
	assert.Empty(t, violations(p.CheckObjects(), plan.RuleSignInClaims))
	assert.Nil(t, findByName(t, stackPlan(t, "prod"), "aws:cognito/userPoolClient:UserPoolClient", "sso-airflow").Inputs["writeAttributes"],
		"without a provider, the clients keep Cognito's default write attributes")

	// Negative control: the Airflow client with Cognito's default read
	// attributes.
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		for i := range p.Resources {
			if p.Resources[i].Type == "aws:cognito/userPoolClient:UserPoolClient" && p.Resources[i].Name == "sso-airflow" {
				delete(p.Resources[i].Inputs, "readAttributes")
			}
		}
	})
	assert.Contains(t, strings.Join(violations(vs, plan.RuleSignInClaims), "\n"),
		`webserver_config.py reads the claim "custom:groups", which app client "sso-airflow" may not read`)
}

// Behind the load balancer, Airflow's sign-in sends Cognito its https
// callback only if FAB trusts X-Forwarded-Proto ([fab] enable_proxy_fix),
// and its session cookie must be Secure (the test bed reads both off the
// running Airflow).
func TestAirflowTrustsTheLoadBalancerForSignInAndKeepsItsCookieSecure(t *testing.T) {
	assert.Empty(t, violations(stackPlan(t, "prod").CheckObjects(), plan.RuleAirflowBehindTLS))
	vs := breakObjects(t, "prod", func(p *plan.Plan) {
		cm := objectNamed(t, p, "airflow", "ConfigMap", "airflow-config")
		data := cm.Body["data"].(map[string]any)
		data["airflow.cfg"] = strings.Replace(data["airflow.cfg"].(string), "[fab]\nenable_proxy_fix = True", "[fab]\nenable_proxy_fix = False", 1)
		web := objectNamed(t, p, "airflow", "ConfigMap", "airflow-api-server-config")
		wd := web.Body["data"].(map[string]any)
		wd["webserver_config.py"] = strings.Replace(wd["webserver_config.py"].(string), "SESSION_COOKIE_SECURE = True", "", 1)
	})
	got := strings.Join(violations(vs, plan.RuleAirflowBehindTLS), "\n")
	assert.Contains(t, got, `airflow.cfg has [fab] enable_proxy_fix = "False" behind a load balancer that terminates TLS`)
	assert.Contains(t, got, "does not set SESSION_COOKIE_SECURE = True")
}

func recordID(t *testing.T, p *plan.Plan, typ, name string) string {
	t.Helper()
	for _, r := range p.Records() {
		if r.Type == typ && r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return ""
}
