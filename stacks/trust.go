package stacks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dataplatform/dataplatform/internal/rdsca"
	"github.com/dataplatform/dataplatform/internal/validate"
	"github.com/dataplatform/dataplatform/stackconfig"
)

// Warner receives the run's warnings (a root CA close to expiry). The
// program also logs them to the Pulumi engine, which shows them in
// `pulumi preview` and `pulumi up`; a ToolFinder that is a Warner (the
// offline plan's machine) gets them too.
type Warner interface {
	Warn(message string)
}

// LoadCABundle reads the CA bundle from the file
// cfg.Database.CABundleFile names (default rdsca.DefaultFile, relative to
// dir, the project directory), and checks that it holds the region's RDS
// root CA, not expired (rdsca.Check). The bundle is a committed file, not a
// download, so that it changes only when someone refreshes it (cmd/rds-ca):
// a republished bundle never rolls pods unasked, and an outage of AWS's
// trust store never blocks a deploy. Outside the example account the fake
// AWS's bundle of the committed stacks is refused. It returns a warning
// when the root in use expires within rdsca.WarnWithin. The error names the
// config field and the command that fetches the bundle.
func LoadCABundle(cfg *Config, dir, account string, now time.Time) (bundle, warning string, err error) {
	field := stackconfig.Namespace + ":database.caBundleFile"
	if cfg == nil {
		return "", "", nil
	}
	file := cfg.Database.CABundleFile
	if file == "" {
		file = rdsca.DefaultFile(cfg.Region)
	}
	fetch := fmt.Sprintf("`go run ./cmd/rds-ca -region %s -out %s` in the project directory (it checks the certificates' subjects and expiry), review the file and commit it beside the stack", cfg.Region, file)
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	var p validate.Problems
	pem, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.Addf(field, "%s does not exist; every database client verifies the server against the region's RDS certificate authorities in it: fetch them once with %s", file, fetch)
		return "", "", p.Err()
	case err != nil:
		p.Addf(field, "%v", err)
		return "", "", p.Err()
	}
	if err := rdsca.Check(pem, cfg.Region, file, now); err != nil {
		p.Addf(field, "%v; fetch the region's bundle with %s", err, fetch)
		return "", "", p.Err()
	}
	if account != ExampleAccount && rdsca.IsExample(pem) {
		p.Addf(field, "%s is the committed example's bundle, from the offline plan's fake trust store, which no real instance is signed by: fetch this region's with %s", file, fetch)
		return "", "", p.Err()
	}
	return string(pem), rdsca.Expiry(pem, cfg.Region, file, now), nil
}
