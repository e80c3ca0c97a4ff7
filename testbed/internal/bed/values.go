package bed

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/testbed/internal/eso"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// The values of secrets are the one thing the plan masks, so the bed makes
// its own: every secret an ExternalSecret reads gets a JSON value with the
// properties read, each derived from the bed's seed, the secret's ARN, the
// property, and the keepers of the random resources behind the secret (so
// that raising database.loginGeneration gives the rotated login, and only
// it, a new password, as pulumi-random would).

// secretValues returns the test value (SecretString) of every secret the
// plan's ExternalSecrets read, and the sign-in client secrets.
func (b *Bed) secretValues(p *planjson.Plan, objs []planjson.Object) (map[string]string, error) {
	versions := map[string]string{} // ARN -> the SecretVersion's logical name
	for _, r := range p.Find("aws:secretsmanager/secretVersion:SecretVersion") {
		if arn, _ := r.Inputs["secretId"].(string); arn != "" {
			versions[arn] = r.Name
		}
	}
	keepers := map[string]string{} // logical name -> keepers of its random resources
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "random:") {
			k, _ := json.Marshal(r.Inputs["keepers"])
			keepers[r.Name] = string(k)
		}
	}
	out := map[string]string{}
	refs := eso.Refs(objs)
	arns := make([]string, 0, len(refs))
	for arn := range refs {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		props := refs[arn]
		name := versions[arn]
		gen := func(prop string) string {
			return b.derive(arn, prop, keepers[name], keepers[name+"-salt"])
		}
		if len(props) == 1 && props[0] == "" {
			out[arn] = b.clientSecret(arn)
			continue
		}
		v := map[string]string{}
		for _, prop := range props {
			switch prop {
			case "username":
				u, err := usernameOf(p, arn, name)
				if err != nil {
					return nil, err
				}
				v[prop] = u
			case "password", "admin-password", "api-secret-key", "jwt-secret":
				v[prop] = gen(prop)
			case "scram":
				v[prop] = scramVerifier(gen("password"), []byte(gen("salt"))[:16])
			case "fernet-key":
				sum := sha256.Sum256([]byte(gen(prop)))
				v[prop] = base64.URLEncoding.EncodeToString(sum[:])
			default:
				return nil, fmt.Errorf("secret %s: the bed has no test value for property %q", arn, prop)
			}
		}
		if _, ok := v["password"]; ok && v["username"] == "" {
			// A login's secret holds its name too, even where only the
			// verifier is read (the standby login, in the job's namespace).
			if u, err := usernameOf(p, arn, name); err == nil {
				v["username"] = u
			}
		}
		if _, ok := v["scram"]; ok {
			v["password"] = gen("password")
			if u, err := usernameOf(p, arn, name); err == nil {
				v["username"] = u
			}
		}
		js, _ := json.Marshal(v)
		out[arn] = string(js)
	}
	return out, nil
}

// derive is a test value: 32 letters and digits from the seed and the rest.
func (b *Bed) derive(parts ...string) string {
	mac := hmac.New(sha256.New, []byte(b.State.Seed))
	mac.Write([]byte(strings.Join(parts, "\x00")))
	s := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	s = strings.NewReplacer("-", "x", "_", "y").Replace(s)
	return s[:32]
}

// clientSecret is the test secret of a Cognito app client, by the ARN of
// the Secrets Manager secret the program stores it in.
func (b *Bed) clientSecret(arn string) string { return b.derive("cognito-client-secret", arn) }

// usernameOf answers a secret's username: an app login's secret is tagged
// with the login's name; an RDS master secret (rds!db-…) belongs to the
// instance whose login job reads it, whose username input it holds.
func usernameOf(p *planjson.Plan, arn, versionName string) (string, error) {
	for _, r := range p.Find("aws:secretsmanager/secret:Secret") {
		if r.Name == versionName {
			if t := planjson.Strings(r.Inputs["tags"]); strings.Contains(t["Name"], "_") && !strings.Contains(t["Name"], "/") {
				return t["Name"], nil
			}
		}
	}
	if strings.Contains(arn, ":secret:rds!") {
		for _, out := range []string{"airflowDatabaseSecretArn", "airbyteDatabaseSecretArn"} {
			if p.Output(out) != arn {
				continue
			}
			addr := p.Output(strings.TrimSuffix(out, "SecretArn"))
			for _, r := range p.Find("aws:rds/instance:Instance") {
				id, _ := r.Inputs["identifier"].(string)
				if id != "" && strings.HasPrefix(addr, id+".") {
					u, _ := r.Inputs["username"].(string)
					return u, nil
				}
			}
		}
		return "", fmt.Errorf("no RDS instance of the plan has master secret %s", arn)
	}
	return "testbed-" + versionName, nil
}

// scramVerifier is PostgreSQL's SCRAM-SHA-256 verifier of a password
// (RFC 7677, and src/common/scram-common.c: iterations$salt$StoredKey:ServerKey).
func scramVerifier(password string, salt []byte) string {
	salted, err := pbkdf2.Key(sha256.New, password, salt, 4096, 32)
	if err != nil {
		panic(err)
	}
	hm := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := hm(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	serverKey := hm(salted, "Server Key")
	e := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$4096:%s$%s:%s", e(salt), e(stored[:]), e(serverKey))
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
