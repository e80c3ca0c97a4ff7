package stacks

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/spec"
)

// TrustStore gives the RDS certificate authorities of a region: the
// deploying machine (Machine) downloads them from AWS; the offline plan's
// fake machine answers with the fake AWS's.
type TrustStore interface {
	// RDSCABundle returns the PEM bundle of region's RDS certificate
	// authorities.
	RDSCABundle(region string) ([]byte, error)
}

// RDSCABundle downloads region's bundle (database.DownloadCABundle).
func (Machine) RDSCABundle(region string) ([]byte, error) {
	return database.DownloadCABundle(region)
}

// LoadCABundle fills cfg.Database.CABundle: from cfg.Database.CABundleFile
// (relative to dir, the project directory) when set, or else from store,
// and checks that it holds the region's RDS root CA
// (database.CheckCABundle). The error names the config field to set.
func LoadCABundle(cfg *Config, dir string, store TrustStore) error {
	field := spec.Namespace + ":database.caBundleFile"
	var bundle []byte
	var err error
	source := database.TrustStoreURL(cfg.Region)
	if f := cfg.Database.CABundleFile; f != "" {
		source = f
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if bundle, err = os.ReadFile(f); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	} else {
		if store == nil {
			return fmt.Errorf("%s: unset, and this machine cannot download the RDS CA bundle", field)
		}
		if bundle, err = store.RDSCABundle(cfg.Region); err != nil {
			return fmt.Errorf("the RDS CA bundle, which every database client verifies the server against: %w; "+
				"allow HTTPS to truststore.pki.rds.amazonaws.com, or download it elsewhere and set %s to the file", err, field)
		}
	}
	if err := database.CheckCABundle(bundle, cfg.Region, source); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	cfg.Database.CABundle = string(bundle)
	return nil
}
