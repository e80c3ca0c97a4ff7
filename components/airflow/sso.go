package airflow

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// SSOSecretName is the Secret that holds the Cognito client secret
// (key "client-secret") when users sign in through single sign-on.
const SSOSecretName = "airflow-sso"

// ssoSecretEnv is the API server's variable webserver_config.py reads the
// client secret from; its value never sits in the Helm values.
const ssoSecretEnv = "AIRFLOW_SSO_CLIENT_SECRET"

// SSOProvider is the name of the OAuth provider in Airflow (it is part of
// the callback path).
const SSOProvider = "cognito"

// SignInClientName is the name of Airflow's app client in a sign-in
// (identity.SignIn.Clients).
const SignInClientName = "airflow"

// SignInClient is the app client Airflow needs in the sign-in
// (identity.SignInArgs.Apps) when it is served at url (ingress.URL): Cognito
// sends users back to the FAB auth manager's callback and, after signing
// out, to the UI; the client's secret is stored, as Airflow exchanges codes
// itself.
func SignInClient(url string) identity.SignInApp {
	return identity.SignInApp{Name: SignInClientName, CallbackURLs: []string{SSOCallbackURL(url)}, LogoutURLs: []string{url + "/"}, StoreSecret: true}
}

// SSOCallbackURL is where Cognito sends users back to Airflow: the FAB
// auth manager is served under /auth in Airflow 3.
func SSOCallbackURL(baseURL string) string {
	return strings.TrimSuffix(baseURL, "/") + "/auth/oauth-authorized/" + SSOProvider
}

// webserverConfig is the API server's webserver_config.py: the FAB auth
// manager (the chart's default in Airflow 3) signs users in with Cognito's
// authorization code flow, and maps the pool's groups (the "cognito:groups"
// claim, and the "custom:groups" an external identity provider fills) to
// Airflow roles at every sign-in. A user in no mapped group gets the
// Public role: no access. The chart renders this text through tpl, so it
// holds no double braces.
const webserverConfig = `import os
import re

from flask_appbuilder.security.manager import AUTH_OAUTH
from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride

# The load balancer terminates TLS: FAB's session cookie is sent over HTTPS
# only, and not with cross-site requests. (The callback URL is https
# because airflow.cfg's [fab] enable_proxy_fix trusts X-Forwarded-Proto.)
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Public"
AUTH_ROLES_SYNC_AT_LOGIN = True
AUTH_ROLES_MAPPING = %s

OAUTH_PROVIDERS = [
    dict(
        name="%s",
        icon="fa-amazon",
        token_key="access_token",
        remote_app=dict(
            client_id="%%s",
            client_secret=os.environ["%s"],
            api_base_url="https://%%s/oauth2/",
            server_metadata_url="%%s/.well-known/openid-configuration",
            client_kwargs=dict(scope="openid email profile"),
        ),
    )
]


class CognitoSecurityManager(FabAirflowSecurityManagerOverride):
    def get_oauth_user_info(self, provider, resp):
        if provider != "%s":
            return super().get_oauth_user_info(provider, resp)
        claims = resp.get("userinfo") or {}
        groups = list(claims.get("cognito:groups", []))
        groups += [g for g in re.split(r"[\s,;\[\]\"']+", claims.get("custom:groups", "")) if g]
        return dict(
            username="sso_" + claims["sub"],
            email=claims.get("email", ""),
            first_name=claims.get("given_name", ""),
            last_name=claims.get("family_name", ""),
            role_keys=groups,
        )


SECURITY_MANAGER_CLASS = CognitoSecurityManager
`

// rolesMapping is AUTH_ROLES_MAPPING: each pool group to its Airflow role.
func rolesMapping() string {
	groups := make([]string, 0, len(stackconfig.AirflowRoles))
	for role, group := range stackconfig.AirflowRoles {
		groups = append(groups, fmt.Sprintf("%q: [%q]", group, role))
	}
	sort.Strings(groups)
	return "{" + strings.Join(groups, ", ") + "}"
}

// ssoValues turns on single sign-on in v: the API server's
// webserver_config.py and the client secret from the synced Secret; no
// first admin is created.
func ssoValues(v *ChartValues, s *identity.SignIn) {
	config := fmt.Sprintf(webserverConfig, rolesMapping(), SSOProvider, ssoSecretEnv, SSOProvider)
	v.APIServer.APIServerConfig = pulumi.Sprintf(config, s.Clients[SignInClientName].ID(), s.HostedDomain(), s.Issuer())
	v.APIServer.Env = append(v.APIServer.Env,
		ComponentEnv{Name: ssoSecretEnv, ValueFrom: &ValueFrom{SecretKeyRef: SecretKeyRef{Name: SSOSecretName, Key: "client-secret"}}},
	)
	off := false
	v.CreateUserJob = CreateUserJob{Enabled: &off}
}
