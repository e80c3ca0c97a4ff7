package bed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// cognitoHost plays the plan's Cognito user pool: a certified OpenID
// provider (npm oidc-provider, see testbed/oidc/cognito.mjs) shaped like
// Cognito's issuer (cognito-idp.<region>.amazonaws.com/<pool>) and hosted
// domain, with the plan's app clients (their IDs, callback and sign-out
// URLs, scopes, read and write attributes), the plan's groups, and, when the
// plan federates an identity provider, its attribute mapping.
const cognitoHost = "cognito"

// signInEnabled says whether the plan has a user pool.
func (b *Bed) signInEnabled() bool {
	return len(b.Plan.Find("aws:cognito/userPool:UserPool")) > 0
}

// roleGroups are the pool's groups that stand for Airflow roles, as the
// plan describes them ("Airflow role Admin"), by group.
func (b *Bed) roleGroups() map[string]string {
	out := map[string]string{}
	for _, g := range b.Plan.Find("aws:cognito/userGroup:UserGroup") {
		name, _ := g.Inputs["name"].(string)
		desc, _ := g.Inputs["description"].(string)
		if role, ok := strings.CutPrefix(desc, "Airflow role "); ok {
			out[name] = role
		}
	}
	return out
}

func (b *Bed) startCognito() error {
	if !b.signInEnabled() {
		return nil
	}
	pool := b.Plan.Find("aws:cognito/userPool:UserPool")[0]
	domain := b.Plan.Output("ssoSignInDomain")
	issuerHost := "cognito-idp." + b.region() + ".amazonaws.com"
	ip, err := b.host(cognitoHost)
	if err != nil {
		return err
	}
	if err := b.resolve(ip, issuerHost, domain); err != nil {
		return err
	}
	dir := b.path("cognito")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pair, err := b.ca.Issue(issuerHost, domain)
	if err != nil {
		return err
	}
	cert, key, err := pair.Write(dir, "server")
	if err != nil {
		return err
	}
	clients, err := b.cognitoClients()
	if err != nil {
		return err
	}
	b.State.Users = b.testUsers()
	var users []map[string]any
	for _, u := range b.State.Users {
		m := map[string]any{"username": u.Username, "password": u.Password, "sub": u.Sub, "email": u.Email, "groups": u.Groups}
		if u.Federated {
			idp := b.Plan.Find("aws:cognito/identityProvider:IdentityProvider")[0]
			m["groups"] = []string{}
			m["federated"] = map[string]any{
				"provider":         idp.Inputs["providerName"],
				"attributeMapping": idp.Inputs["attributeMapping"],
				// The company provider's claims: its groups claim holds the
				// user's groups (named as the pool's).
				"claims": map[string]any{"email": u.Email, "sub": u.Sub, b.groupsClaim(idp): u.Groups},
			}
		}
		users = append(users, m)
	}
	cfg := map[string]any{
		"issuer": "https://" + issuerHost + "/" + pool.ID, "domain": "https://" + domain,
		"listen": []map[string]any{{"host": "0.0.0.0", "port": 443}},
		"tls":    map[string]string{"cert": cert, "key": key}, "clients": clients, "users": users,
	}
	js, _ := json.MarshalIndent(cfg, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o600); err != nil {
		return err
	}
	// The provider's modules are in the install cache; its script is the
	// checkout's.
	script, err := os.ReadFile(filepath.Join(b.Tools.RepoDir, "testbed", "oidc", "cognito.mjs"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cognito.mjs"), script, 0o644); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(b.Tools.OIDCDir, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		return err
	}
	if _, err := b.Start(Spec{Name: "cognito", Host: cognitoHost, Argv: []string{b.Tools.Node, filepath.Join(dir, "cognito.mjs"), filepath.Join(dir, "config.json")},
		Env: []string{"PATH=/usr/bin:/bin", "NODE_ENV=production"}}); err != nil {
		return err
	}
	return waitTCP(ip+":443", 30*time.Second)
}

// cognitoClients are the plan's app clients: the ID the fake AWS gave each,
// its secret (the test value of the secret the program stores it in, else
// one of the bed's), callback and sign-out URLs, scopes, and attributes.
func (b *Bed) cognitoClients() ([]map[string]any, error) {
	var out []map[string]any
	for _, c := range b.Plan.Find("aws:cognito/userPoolClient:UserPoolClient") {
		name, _ := c.Inputs["name"].(string)
		secret := b.derive("cognito-client", c.ID)
		for arn, v := range b.State.Secrets {
			if strings.Contains(arn, "/"+name+"/sso-client-") {
				secret = v
			}
		}
		m := map[string]any{
			"client_id": c.ID, "client_secret": secret, "name": name,
			"redirect_uris": c.Inputs["callbackUrls"], "logout_uris": c.Inputs["logoutUrls"], "scopes": c.Inputs["allowedOauthScopes"],
		}
		if p, ok := c.Inputs["supportedIdentityProviders"]; ok {
			m["identity_providers"] = p
		}
		if a, ok := c.Inputs["readAttributes"]; ok {
			m["read_attributes"] = a
		}
		if a, ok := c.Inputs["writeAttributes"]; ok {
			m["write_attributes"] = a
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the user pool has no app client")
	}
	return out, nil
}

func (b *Bed) groupsClaim(idp planjson.Resource) string {
	m := planjson.Strings(idp.Inputs["attributeMapping"])
	if c := m["custom:groups"]; c != "" {
		return c
	}
	return "groups"
}

// testUsers are one user per group that maps to an Airflow role, one in
// no group (who must get no access), and, when the plan federates an
// identity provider, a user of that provider whose groups come in its
// groups claim.
func (b *Bed) testUsers() []User {
	groups := b.roleGroups()
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	mk := func(name string, g []string, role string) User {
		return User{Username: name + "@testbed.example", Email: name + "@testbed.example", Password: "Pw-" + b.derive("user", name),
			Sub: uuidFrom(b.derive("sub", name)), Groups: g, Role: role}
	}
	federated := len(b.Plan.Find("aws:cognito/identityProvider:IdentityProvider")) > 0
	var out []User
	for _, g := range names {
		out = append(out, mk(strings.TrimPrefix(g, "airflow-"), []string{g}, groups[g]))
	}
	out = append(out, mk("nogroup", []string{}, ""))
	if federated {
		// Users of the company provider, whose groups come in its groups
		// claim, and a user of the pool itself, whom the clients (which
		// sign users in through the provider only) must refuse.
		for i := range out {
			out[i].Federated = true
		}
		native := mk("native", []string{names[0]}, "")
		native.Refused = true
		out = append(out, native)
	}
	return out
}

// uuidFrom makes a UUID-shaped user sub (as Cognito's) from a test value.
func uuidFrom(s string) string {
	h := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}
