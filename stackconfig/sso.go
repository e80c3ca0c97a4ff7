package stackconfig

import (
	"regexp"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// SSO is the stack config section `dataplatform:sso`: sign-in to Airflow
// and Airbyte through an Amazon Cognito user pool, optionally federated
// with the company's own OIDC identity provider. Off by default; it needs
// HTTPS (apps.ingress.certificateArn).
type SSO struct {
	// Enabled turns single sign-on on for both apps.
	Enabled bool `json:"enabled,omitempty"`
	// DomainPrefix names the hosted sign-in pages,
	// https://<prefix>.auth.<region>.amazoncognito.com. Prefixes are
	// unique across every AWS account of the region, so the default is
	// the platform's name and the account ID ("<name>-<account>").
	DomainPrefix string `json:"domainPrefix,omitempty"`
	// MFA is the user pool's multi-factor setting: "ON" (default: every
	// user sets up an authenticator app), "OPTIONAL" or "OFF". With an
	// external identity provider, its own MFA applies to federated users.
	MFA string `json:"mfa,omitempty"`
	// Password is the policy of the pool's own passwords.
	Password PasswordPolicy `json:"password,omitempty"`
	// Protect turns on the user pool's deletion protection: `pulumi
	// destroy` cannot delete the users. Set it in production.
	Protect bool `json:"protect,omitempty"`
	// SessionHours is how long a sign-in to Airbyte (the load balancer's
	// session cookie) lasts. Default 8.
	SessionHours int `json:"sessionHours,omitempty"`
	// ExternalProvider federates an OIDC identity provider into the pool;
	// users then sign in there, and the groups claim it sends maps them to
	// the pool's groups.
	ExternalProvider *ExternalIdentityProvider `json:"externalProvider,omitempty"`
}

// PasswordPolicy is the user pool's password policy.
type PasswordPolicy struct {
	// MinLength of a password, 8 to 99. Default 14.
	MinLength int `json:"minLength,omitempty"`
	// TemporaryPasswordDays is how long an invitation's password works, 1
	// to 365. Default 3.
	TemporaryPasswordDays int `json:"temporaryPasswordDays,omitempty"`
}

// ExternalIdentityProvider is an OIDC identity provider federated into the
// user pool.
type ExternalIdentityProvider struct {
	// Name shows on the sign-in page, such as "Okta". 3 to 32 letters,
	// digits, "-", "_" and ".". Required.
	Name string `json:"name"`
	// Issuer is the provider's issuer URL (https), such as
	// "https://example.okta.com". Required.
	Issuer string `json:"issuer"`
	// ClientID is the client registered for the pool at the provider. Required.
	ClientID string `json:"clientId"`
	// ClientSecretARN is a Secrets Manager secret holding that client's
	// secret as plain text; Pulumi reads it at deploy and keeps it only as
	// a Pulumi secret. Required.
	ClientSecretARN string `json:"clientSecretArn"`
	// GroupsClaim is the ID-token claim listing the user's groups at the
	// provider. Default "groups".
	GroupsClaim string `json:"groupsClaim,omitempty"`
}

// AirflowRoles are Airflow's built-in roles, each with the pool group
// whose members get it (a user in several gets each).
var AirflowRoles = map[string]string{
	"Admin":  "airflow-admin",
	"Op":     "airflow-op",
	"User":   "airflow-user",
	"Viewer": "airflow-viewer",
}

// AirbyteGroup is the pool group whose members may use Airbyte.
const AirbyteGroup = "airbyte"

var (
	cognitoDomain   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	idpName         = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,32}$`)
	secretsARN      = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	reservedDomains = []string{"aws", "amazon", "cognito"}
)

// WithDefaults returns c with every unset field given its default; name
// is the platform's name.
func (c SSO) WithDefaults(name string) SSO {
	if c.MFA == "" {
		c.MFA = "ON"
	}
	if c.Password.MinLength == 0 {
		c.Password.MinLength = 14
	}
	if c.Password.TemporaryPasswordDays == 0 {
		c.Password.TemporaryPasswordDays = 3
	}
	if c.SessionHours == 0 {
		c.SessionHours = 8
	}
	if c.ExternalProvider != nil && c.ExternalProvider.GroupsClaim == "" {
		c.ExternalProvider.GroupsClaim = "groups"
	}
	return c
}

// Validate reports every problem of a defaulted SSO.
func (c SSO) Validate() *validate.Problems {
	var p validate.Problems
	if !c.Enabled {
		return &p
	}
	if c.DomainPrefix != "" && !cognitoDomain.MatchString(c.DomainPrefix) {
		p.Addf("domainPrefix", "want 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, got %q", c.DomainPrefix)
	}
	for _, w := range reservedDomains {
		if strings.Contains(c.DomainPrefix, w) {
			p.Addf("domainPrefix", "%q holds %q, which Cognito reserves in domain prefixes", c.DomainPrefix, w)
		}
	}
	if c.MFA != "ON" && c.MFA != "OPTIONAL" && c.MFA != "OFF" {
		p.Addf("mfa", "want %s, got %q", validate.OneOf("ON", "OPTIONAL", "OFF"), c.MFA)
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 99 {
		p.Addf("password.minLength", "want 8 to 99 (Cognito's range), got %d", c.Password.MinLength)
	}
	if c.Password.TemporaryPasswordDays < 1 || c.Password.TemporaryPasswordDays > 365 {
		p.Addf("password.temporaryPasswordDays", "want 1 to 365, got %d", c.Password.TemporaryPasswordDays)
	}
	if c.SessionHours < 1 || c.SessionHours > 168 {
		p.Addf("sessionHours", "want 1 to 168 (the load balancer allows up to 7 days), got %d", c.SessionHours)
	}
	if e := c.ExternalProvider; e != nil {
		if !idpName.MatchString(e.Name) || strings.EqualFold(e.Name, "Cognito") {
			p.Addf("externalProvider.name", "want 3 to 32 letters, digits, \"-\", \"_\" and \".\", not \"Cognito\", got %q", e.Name)
		}
		if !strings.HasPrefix(e.Issuer, "https://") || strings.ContainsAny(e.Issuer, " ?#") {
			p.Addf("externalProvider.issuer", "want the provider's https issuer URL, got %q", e.Issuer)
		}
		if e.ClientID == "" {
			p.Addf("externalProvider.clientId", "required: the client registered for the pool at the provider")
		}
		if !secretsARN.MatchString(e.ClientSecretARN) {
			p.Addf("externalProvider.clientSecretArn", "want the ARN of a Secrets Manager secret holding the client secret, got %q", e.ClientSecretARN)
		}
		if e.GroupsClaim == "" || strings.ContainsAny(e.GroupsClaim, " \"") {
			p.Addf("externalProvider.groupsClaim", "want a claim name such as \"groups\", got %q", e.GroupsClaim)
		}
	}
	return &p
}
