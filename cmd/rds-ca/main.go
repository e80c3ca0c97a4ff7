// Command rds-ca fetches a region's bundle of RDS certificate authorities
// from AWS's trust store, checks it, and writes it where the stack reads
// it (dataplatform:database.caBundleFile, default rds-ca-bundles/<region>-bundle.pem):
//
//	go run ./cmd/rds-ca -region us-east-1
//
// It refuses a bundle that lacks the region's root CA that signs the
// platform's instances (Amazon RDS <region> Root CA RSA2048 G1) or whose
// root has expired, and prints every certificate's subject and expiry, so
// that the change can be reviewed before it is committed. `pulumi up`
// never downloads the bundle: it changes when someone runs this, reads the
// diff and commits it (and the next `pulumi up` rolls the pods that mount
// it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dataplatform/dataplatform/internal/rdsca"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rds-ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "", "the stack's AWS region (aws:region), such as us-east-1")
	out := fs.String("out", "", "the file to write (default rds-ca-bundles/<region>-bundle.pem, relative to the current directory: run it in the project directory)")
	url := fs.String("url", "", "where to fetch from (default AWS's trust store, https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *region == "" {
		fmt.Fprintln(stderr, "rds-ca: -region is required, such as -region us-east-1")
		return 2
	}
	if *out == "" {
		*out = rdsca.DefaultFile(*region)
	}
	if *url == "" {
		*url = rdsca.TrustStoreURL(*region)
	}
	bundle, err := rdsca.Fetch(context.Background(), *url)
	if err != nil {
		fmt.Fprintf(stderr, "rds-ca: %v\n", err)
		return 1
	}
	now := time.Now()
	if err := rdsca.Check(bundle, *region, *url, now); err != nil {
		fmt.Fprintf(stderr, "rds-ca: %v; %s is left as it was\n", err, *out)
		return 1
	}
	certs, _ := rdsca.Certificates(bundle, *url)
	for _, c := range certs {
		mark := " "
		if c.Subject.CommonName == rdsca.RootName(*region) {
			mark = "*"
		}
		fmt.Fprintf(stdout, "%s %-45s valid %s to %s\n", mark, c.Subject.CommonName, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
	}
	fmt.Fprintf(stdout, "* signs the platform's instances (rds-ca-rsa2048-g1)\n")
	if w := rdsca.Expiry(bundle, *region, *url, now); w != "" {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	old, _ := os.ReadFile(*out)
	if string(old) == string(bundle) {
		fmt.Fprintf(stdout, "%s is already this bundle: nothing to commit\n", *out)
		return 0
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintf(stderr, "rds-ca: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out, bundle, 0o644); err != nil {
		fmt.Fprintf(stderr, "rds-ca: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%d certificates): review the diff and commit it; the next `pulumi up` rolls the pods that mount it\n", *out, len(certs))
	return 0
}
