package database

import (
	"context"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/rdsca"
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
// (rdsca.TrustStoreURL).
func TrustStoreURL(region string) string { return rdsca.TrustStoreURL(region) }

// DownloadCABundle downloads region's bundle from AWS's trust store
// (TrustStoreURL) over HTTPS, verified with this machine's roots. Check
// it with CheckCABundle before use. A stack keeps its bundle in a file
// instead (cmd/rds-ca fetches it), so that it changes only on purpose.
func DownloadCABundle(region string) ([]byte, error) {
	return rdsca.Fetch(context.Background(), TrustStoreURL(region))
}

// CARootName is the common name of the root CA of CAIdentifier in a
// region (rdsca.RootName).
func CARootName(region string) string { return rdsca.RootName(region) }

// CheckCABundle reports what keeps bundle (PEM) from verifying the
// region's instances now: it must hold only certificate authorities, one
// of them CARootName(region), not expired. source names where the bundle
// came from, for the message.
func CheckCABundle(bundle []byte, region, source string) error {
	return rdsca.Check(bundle, region, source, time.Now())
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
