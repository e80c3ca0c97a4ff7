package mocks

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

// RDSCABundle is the fake AWS's trust store: the PEM bundle of region's
// RDS certificate authorities, shaped as AWS publishes it (a self-signed
// root per CA family, common name "Amazon RDS <region> Root CA <family>",
// organizational unit "Amazon RDS"; RDS user guide, "Certificate
// authorities"). The keys are Ed25519 from a fixed seed, so the bundle is
// the same at every run and plans compare cleanly; a real bundle holds RSA
// and ECDSA roots.
func RDSCABundle(region string) []byte {
	return RDSCABundleUntil(region, time.Date(2061, 5, 21, 0, 0, 0, 0, time.UTC))
}

// RDSCABundleUntil is RDSCABundle with roots that expire at notAfter, for
// tests of a bundle close to expiry.
func RDSCABundleUntil(region string, notAfter time.Time) []byte {
	var out []byte
	for i, family := range []string{"RSA2048 G1", "RSA4096 G1", "ECC384 G1"} {
		seed := sha256.Sum256([]byte("rds-ca " + region + " " + family))
		key := ed25519.NewKeyFromSeed(seed[:])
		name := pkix.Name{CommonName: "Amazon RDS " + region + " Root CA " + family, OrganizationalUnit: []string{"Amazon RDS"},
			Organization: []string{"Amazon Web Services, Inc."}, Locality: []string{"Seattle"}, Province: []string{"WA"}, Country: []string{"US"}}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(i + 1)),
			Subject:               name,
			NotBefore:             time.Date(2021, 5, 21, 0, 0, 0, 0, time.UTC),
			NotAfter:              notAfter,
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
		if err != nil {
			panic(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}
