package database

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CAIdentifier is the certificate authority that signs every instance's
// server certificate (RDS's rds-ca-rsa2048-g1, which rotates server
// certificates itself).
const CAIdentifier = "rds-ca-rsa2048-g1"

// Where clients find the RDS certificate authorities: a ConfigMap of that
// name in each namespace that talks to RDS, mounted read-only at CADir.
const (
	// CAConfigMapName is the ConfigMap holding the bundle.
	CAConfigMapName = "rds-ca"
	// CAKey is the bundle's key in the ConfigMap (and its file name).
	CAKey = "ca.pem"
	// CADir is where pods mount the ConfigMap.
	CADir = "/etc/rds-ca"
	// CAFile is the bundle's path in a pod: libpq's sslrootcert, pgjdbc's
	// sslrootcert and Temporal's SQL_CA.
	CAFile = CADir + "/" + CAKey
)

// TrustStoreURL is where AWS publishes a region's RDS certificate bundle
// (RDS user guide, "Certificate bundles by AWS Region"); AWS serves it
// over HTTPS only.
func TrustStoreURL(region string) string {
	return fmt.Sprintf("https://truststore.pki.rds.amazonaws.com/%s/%s-bundle.pem", region, region)
}

// DownloadCABundle downloads region's bundle from AWS's trust store
// (TrustStoreURL) over HTTPS, verified with this machine's roots. Check
// it with CheckCABundle before use.
func DownloadCABundle(region string) ([]byte, error) {
	url := TrustStoreURL(region)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

// CARootName is the common name of the root CA of CAIdentifier in a
// region, as the RDS user guide gives it ("Amazon RDS region-identifier
// Root CA RSA2048 G1").
func CARootName(region string) string {
	return "Amazon RDS " + region + " Root CA RSA2048 G1"
}

// CheckCABundle reports what keeps bundle (PEM) from verifying the
// region's instances: it must hold only certificate authorities, one of
// them CARootName(region). source names where the bundle came from, for
// the message.
func CheckCABundle(bundle []byte, region, source string) error {
	var names []string
	found := false
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("RDS CA bundle %s: holds a %s block; want certificates only", source, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("RDS CA bundle %s: %w", source, err)
		}
		if !cert.IsCA {
			return fmt.Errorf("RDS CA bundle %s: %q is not a certificate authority", source, cert.Subject.CommonName)
		}
		names = append(names, cert.Subject.CommonName)
		found = found || cert.Subject.CommonName == CARootName(region)
	}
	if len(names) == 0 {
		return fmt.Errorf("RDS CA bundle %s: no PEM certificate in it; want the bundle of %s from %s", source, region, TrustStoreURL(region))
	}
	if !found {
		return fmt.Errorf("RDS CA bundle %s: no %q among its %d certificates (%s); want the bundle of %s from %s",
			source, CARootName(region), len(names), strings.Join(names, ", "), region, TrustStoreURL(region))
	}
	return nil
}

// NewCAConfigMap creates the ConfigMap CAConfigMapName in namespace,
// holding bundle under CAKey. opts carry the Kubernetes provider.
func NewCAConfigMap(ctx *pulumi.Context, name string, namespace pulumi.StringInput, bundle string, opts ...pulumi.ResourceOption) (*corev1.ConfigMap, error) {
	return corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:      pulumi.String(CAConfigMapName),
			Namespace: namespace,
			Labels:    pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(CAConfigMapName)},
		},
		Data: pulumi.StringMap{CAKey: pulumi.String(bundle)},
	}, opts...)
}

// CAVolume is the pod volume of the ConfigMap, named CAConfigMapName, as
// Kubernetes writes it (for Helm values).
func CAVolume() map[string]any {
	return map[string]any{"name": CAConfigMapName, "configMap": map[string]any{"name": CAConfigMapName}}
}

// CAVolumeMount mounts CAVolume read-only at CADir (for Helm values).
func CAVolumeMount() map[string]any {
	return map[string]any{"name": CAConfigMapName, "mountPath": CADir, "readOnly": true}
}
