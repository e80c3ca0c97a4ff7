//go:build testbed

package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/bed"
)

// Airbyte's Temporal, from its rendered Deployment (the chart's
// environment, the dynamic config and the CA mounted), sets up its two
// databases with its schema tool and serves, as Airbyte's login acting as
// its owner role, over verified TLS; its schema tool refuses an impostor.
func TestTemporalSetsUpItsDatabasesAndServesAsAirbytesLogin(t *testing.T) {
	if err := b.StartTemporal(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Minute, "Temporal's frontend serves the default namespace", func() error {
		out, err := b.Client(bed.LaptopHost, nil, "curl", "-sf", "--max-time", "5", "http://airbyte-temporal.airbyte:7243/api/v1/namespaces/default")
		if err != nil || !strings.Contains(out, `"name":"default"`) {
			return fmt.Errorf("%v %.300s", err, out)
		}
		return nil
	})
	db := instanceOf(t, "airbyte")
	for _, d := range []string{"temporal", "temporal_visibility"} {
		owners, err := b.Admin(db, d, `SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`)
		if err != nil || owners != "airbyte_owner" {
			t.Errorf("tables of %s belong to %q (%v), want airbyte_owner", d, owners, err)
		}
	}
	active, err := b.Secret("airbyte", "airbyte-db-credentials", "DATABASE_USER")
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := b.Admin(db, "postgres", `SELECT string_agg(DISTINCT a.usename || ' ' || s.ssl, ',') FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname LIKE 'temporal%'`)
	if err != nil || sessions != active+" true" {
		t.Errorf("Temporal's sessions (user, TLS): %q (%v), want %s over TLS", sessions, err, active)
	}
	for _, kind := range []string{"other-ca", "wrong-name"} {
		imp, err := b.Impostor(kind)
		if err != nil {
			t.Fatal(err)
		}
		out, err := b.TemporalSchemaThrough(imp.HostsFile, "probe-temporal-"+kind)
		if err == nil || !(strings.Contains(out, "certificate") || strings.Contains(out, "x509")) {
			t.Errorf("Temporal's schema tool against the %s impostor: %v\n%s", kind, err, out)
		}
	}
}
