package database

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A verifier made by PostgreSQL 15.18 itself:
//
//	SET password_encryption = 'scram-sha-256';
//	ALTER ROLE vec PASSWORD 'correct-horse-battery-staple';
//	SELECT rolpassword FROM pg_authid WHERE rolname = 'vec';
const postgresVerifier = "SCRAM-SHA-256$4096:tr32Gv6oiO4uwfP43+v59w==$MEPMH4gCiSfBl3sMSU4pJQJihx4xtvl/AuJx5UP9a6k=:Vbx5TeY8smd92xMfBEAUV17DbZU7YUEcNFWXp0AJcK4="

func TestScramVerifierIsPostgresOwn(t *testing.T) {
	salt, err := base64.StdEncoding.DecodeString("tr32Gv6oiO4uwfP43+v59w==")
	require.NoError(t, err)
	got, err := ScramVerifier("correct-horse-battery-staple", salt)
	require.NoError(t, err)
	assert.Equal(t, postgresVerifier, got)
	// Negative controls: another password or salt is another verifier.
	other, _ := ScramVerifier("correct-horse-battery-stapler", salt)
	assert.NotEqual(t, postgresVerifier, other)
	other, _ = ScramVerifier("correct-horse-battery-staple", append([]byte{1}, salt[1:]...))
	assert.NotEqual(t, postgresVerifier, other)
	_, err = ScramVerifier("correct horse", salt)
	assert.ErrorContains(t, err, "printable ASCII")
}
