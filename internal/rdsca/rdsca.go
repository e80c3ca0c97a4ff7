// Package rdsca reads, checks and fetches the bundles of RDS certificate
// authorities that the platform's database clients verify servers against.
// It uses the standard library only, so cmd/rds-ca (which a deployer runs
// to fetch a region's bundle) builds in seconds.
package rdsca

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// TrustStoreURL is where AWS publishes a region's RDS certificate bundle
// (RDS user guide, "Certificate bundles by AWS Region"); AWS serves it
// over HTTPS only.
func TrustStoreURL(region string) string {
	return fmt.Sprintf("https://truststore.pki.rds.amazonaws.com/%s/%s-bundle.pem", region, region)
}

// RootName is the common name of the root CA that signs the platform's
// instances (rds-ca-rsa2048-g1) in a region, as the RDS user guide gives
// it ("Amazon RDS region-identifier Root CA RSA2048 G1").
func RootName(region string) string {
	return "Amazon RDS " + region + " Root CA RSA2048 G1"
}

// DefaultFile is where a stack's bundle is kept, relative to the Pulumi
// project, unless dataplatform:database.caBundleFile says otherwise.
func DefaultFile(region string) string {
	return "rds-ca-bundles/" + region + "-bundle.pem"
}

// WarnWithin is how long before the root in use expires the plan and the
// deploy start warning.
const WarnWithin = 365 * 24 * time.Hour

// Certificates parses bundle (PEM): certificate authorities only.
func Certificates(bundle []byte, source string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("RDS CA bundle %s: holds a %s block; want certificates only", source, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RDS CA bundle %s: %w", source, err)
		}
		if !cert.IsCA {
			return nil, fmt.Errorf("RDS CA bundle %s: %q is not a certificate authority", source, cert.Subject.CommonName)
		}
		out = append(out, cert)
	}
	return out, nil
}

// Check reports what keeps bundle (PEM) from verifying the region's
// instances at time now: it must hold only certificate authorities, one
// of them RootName(region), valid now. source names where the bundle came
// from, for the message.
func Check(bundle []byte, region, source string, now time.Time) error {
	certs, err := Certificates(bundle, source)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return fmt.Errorf("RDS CA bundle %s: no PEM certificate in it; want the bundle of %s from %s", source, region, TrustStoreURL(region))
	}
	root := find(certs, region)
	if root == nil {
		var names []string
		for _, c := range certs {
			names = append(names, c.Subject.CommonName)
		}
		return fmt.Errorf("RDS CA bundle %s: no %q among its %d certificates (%s); want the bundle of %s from %s",
			source, RootName(region), len(certs), strings.Join(names, ", "), region, TrustStoreURL(region))
	}
	if now.After(root.NotAfter) {
		return fmt.Errorf("RDS CA bundle %s: %q expired on %s; fetch the region's current bundle", source, RootName(region), root.NotAfter.Format(time.DateOnly))
	}
	return nil
}

// Expiry returns a warning when the root in use expires within WarnWithin
// of now, or "".
func Expiry(bundle []byte, region, source string, now time.Time) string {
	certs, err := Certificates(bundle, source)
	if err != nil {
		return ""
	}
	root := find(certs, region)
	if root == nil || root.NotAfter.Sub(now) > WarnWithin {
		return ""
	}
	return fmt.Sprintf("RDS CA bundle %s: %q, which signs the instances' certificates, expires on %s (in %d days): move the instances to the CA that replaces it and refresh the bundle (cmd/rds-ca) before then, or every database client stops connecting",
		source, RootName(region), root.NotAfter.Format(time.DateOnly), int(root.NotAfter.Sub(now).Hours()/24))
}

// IsExample reports whether bundle is the fake AWS's trust store's (its
// roots are Ed25519, which RDS's are not): the committed stacks' bundle,
// which only the example account may use.
func IsExample(bundle []byte) bool {
	certs, err := Certificates(bundle, "")
	if err != nil || len(certs) == 0 {
		return false
	}
	for _, c := range certs {
		if _, ok := c.PublicKey.(ed25519.PublicKey); !ok {
			return false
		}
	}
	return true
}

// Fetch downloads a bundle from url over HTTPS, verified with this
// machine's roots (SSL_CERT_FILE, if set, names them).
func Fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

func find(certs []*x509.Certificate, region string) *x509.Certificate {
	for _, c := range certs {
		if c.Subject.CommonName == RootName(region) {
			return c
		}
	}
	return nil
}
