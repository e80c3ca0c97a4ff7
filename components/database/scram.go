package database

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// ScramVerifier is the SCRAM-SHA-256 verifier PostgreSQL stores for a
// password (pg_authid.rolpassword), as `ALTER ROLE ... PASSWORD` accepts it:
// PostgreSQL keeps a verifier it is given as is, so the password itself is
// never sent to the server, nor seen by its logs or pg_stat_statements.
// The password must be printable ASCII, which SASLprep leaves unchanged
// (the logins' passwords are letters and digits); salt should be 16 random
// bytes, as PostgreSQL's own.
func ScramVerifier(password string, salt []byte) (string, error) {
	for _, r := range password {
		if r < 0x21 || r > 0x7e {
			return "", fmt.Errorf("scram: the password must be printable ASCII, without spaces")
		}
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored[:]), b64(server)), nil
}
