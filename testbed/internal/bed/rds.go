package bed

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/kube"
	"github.com/dataplatform/dataplatform/testbed/internal/pki"
	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// postgresUID is the Debian postgresql package's user, which owns the data
// directories (PostgreSQL refuses to run as root).
const postgresUID, postgresGID = 101, 104

// rdsSetup is what RDS does to a new PostgreSQL instance, as the RDS user
// guide describes it ("Understanding PostgreSQL roles and permissions"):
// rdsadmin is the only superuser; the master user is not one, but a member
// of rds_superuser with CREATEROLE and CREATEDB, and owns the postgres and
// template1 databases; rdsadmin keeps rdsadmin and template0.
const rdsSetup = `
CREATE ROLE rds_superuser NOLOGIN;
GRANT pg_monitor, pg_signal_backend, pg_checkpoint, pg_read_all_settings, pg_read_all_stats, pg_stat_scan_tables, pg_use_reserved_connections, pg_create_subscription TO rds_superuser WITH ADMIN OPTION;
CREATE ROLE :"master" LOGIN CREATEROLE CREATEDB PASSWORD :'password' IN ROLE rds_superuser;
ALTER DATABASE postgres OWNER TO :"master";
ALTER DATABASE template1 OWNER TO :"master";
CREATE DATABASE rdsadmin;
REVOKE CONNECT ON DATABASE rdsadmin FROM PUBLIC;
`

// startDatabases starts an RDS-shaped PostgreSQL for every primary RDS
// instance of the plan (read replicas are not run: no client of the
// platform connects to them).
func (b *Bed) startDatabases(ca *pki.CA) error {
	params := b.parameterGroups()
	for _, r := range b.Plan.Find("aws:rds/instance:Instance") {
		if src, _ := r.Inputs["replicateSourceDb"].(string); src != "" {
			continue
		}
		db := Database{}
		db.Identifier, _ = r.Inputs["identifier"].(string)
		db.MasterUsername, _ = r.Inputs["username"].(string)
		db.DBName, _ = r.Inputs["dbName"].(string)
		db.Address = b.addressOf(db.Identifier)
		if db.Address == "" {
			return fmt.Errorf("RDS instance %s: no address of it in the plan", db.Identifier)
		}
		db.MasterPassword = b.masterPassword(db)
		db.Host = "rds-" + db.Identifier
		ip, err := b.host(db.Host)
		if err != nil {
			return err
		}
		db.IP = ip
		if err := b.resolve(ip, db.Address); err != nil {
			return err
		}
		if err := b.startDatabase(&db, ca, params[db.Identifier]); err != nil {
			return err
		}
		b.State.Databases = append(b.State.Databases, db)
		if err := b.save(); err != nil {
			return err
		}
	}
	if len(b.State.Databases) == 0 {
		return fmt.Errorf("the plan has no RDS instance")
	}
	return nil
}

// parameterGroups are the parameters of each primary instance's parameter
// group (the group whose name its parameterGroupName carries), by the
// instance's identifier.
func (b *Bed) parameterGroups() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, r := range b.Plan.Find("aws:rds/instance:Instance") {
		id, _ := r.Inputs["identifier"].(string)
		name, _ := r.Inputs["parameterGroupName"].(string)
		for _, pg := range b.Plan.Find("aws:rds/parameterGroup:ParameterGroup") {
			if prefix, _ := pg.Inputs["namePrefix"].(string); prefix != "" && strings.HasPrefix(name, prefix) {
				var ps []map[string]any
				_ = planjson.Decode(pg.Inputs["parameters"], &ps)
				out[id] = ps
			}
		}
	}
	return out
}

// addressOf finds the instance's endpoint among the plan's values: the
// host name starting "<identifier>." that clients are given.
func (b *Bed) addressOf(identifier string) string {
	for _, v := range b.Plan.Outputs {
		if s, ok := v.(string); ok && strings.HasPrefix(s, identifier+".") && strings.HasSuffix(s, ".rds.amazonaws.com") {
			return s
		}
	}
	for _, o := range b.Objects {
		if o.Kind() != "Job" {
			continue
		}
		if pod, err := kube.PodOf(o); err == nil {
			for _, c := range pod.Spec.Containers {
				for _, e := range c.Env {
					if e.Name == "PGHOST" && strings.HasPrefix(e.Value, identifier+".") {
						return e.Value
					}
				}
			}
		}
	}
	return ""
}

// masterPassword is the master user's password: RDS keeps it in the
// secret it manages (manageMasterUserPassword), whose test value the bed
// made.
func (b *Bed) masterPassword(db Database) string {
	for arn, v := range b.State.Secrets {
		if strings.Contains(arn, ":secret:rds!") && strings.Contains(v, `"username":"`+db.MasterUsername+`"`) {
			var m map[string]string
			if json.Unmarshal([]byte(v), &m) == nil {
				return m["password"]
			}
		}
	}
	return b.derive("master", db.Identifier)
}

func (b *Bed) startDatabase(db *Database, ca *pki.CA, params []map[string]any) error {
	return b.startDatabaseAs(db, ca, []string{db.Address}, params)
}

// startDatabaseAs starts an instance whose certificate, from ca, names
// certNames (an impostor's may name another host, or come from another CA).
func (b *Bed) startDatabaseAs(db *Database, ca *pki.CA, certNames []string, params []map[string]any) error {
	dir := b.path("rds", db.Host)
	db.Data, db.Socket = filepath.Join(dir, "data"), filepath.Join(dir, "run")
	for _, d := range []string{dir, db.Socket} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	pair, err := ca.Issue(certNames...)
	if err != nil {
		return err
	}
	if _, _, err := pair.Write(dir, "server"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "rdsadmin.pw"), []byte(b.derive("rdsadmin", db.Identifier)+"\n"), 0o600); err != nil {
		return err
	}
	if err := chownR(dir); err != nil {
		return err
	}
	uid, gid := postgresUID, postgresGID
	mount := []Bind{{Src: dir, Dst: "/var/lib/rds"}, {Src: db.Socket, Dst: "/var/run/rds"}}
	bin := b.Tools.PostgresBin
	if _, err := b.Run(Spec{Name: db.Host + "-initdb", Host: db.Host, UID: &uid, GID: &gid, Binds: mount,
		Env:  []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C.UTF-8"},
		Argv: []string{bin + "/initdb", "-D", "/var/lib/rds/data", "-U", "rdsadmin", "--pwfile=/var/lib/rds/rdsadmin.pw", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"},
	}, 2*time.Minute); err != nil {
		return err
	}
	conf := []string{
		"listen_addresses = '*'", "port = 5432", "unix_socket_directories = '/var/run/rds'",
		"ssl = on", "ssl_cert_file = '/var/lib/rds/server.pem'", "ssl_key_file = '/var/lib/rds/server.key'",
		"password_encryption = 'scram-sha-256'", "log_connections = on", "log_line_prefix = '%m [%p] %u@%d '",
	}
	forceSSL := false
	for _, p := range params {
		name, _ := p["name"].(string)
		value, _ := p["value"].(string)
		if name == "rds.force_ssl" {
			forceSSL = value == "1"
			continue
		}
		if strings.HasPrefix(name, "rds.") {
			continue // RDS's own extensions
		}
		conf = append(conf, fmt.Sprintf("%s = '%s'", name, value))
	}
	hba := []string{"local all rdsadmin trust"}
	if forceSSL {
		// rds.force_ssl = 1: connections without TLS are refused.
		hba = append(hba, "hostssl all all 0.0.0.0/0 scram-sha-256", "host all all 0.0.0.0/0 reject")
	} else {
		hba = append(hba, "host all all 0.0.0.0/0 scram-sha-256")
	}
	if err := appendFile(filepath.Join(db.Data, "postgresql.conf"), strings.Join(conf, "\n")+"\n"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(db.Data, "pg_hba.conf"), []byte(strings.Join(hba, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if err := chownR(dir); err != nil {
		return err
	}
	if _, err := b.Start(Spec{Name: db.Host, Host: db.Host, UID: &uid, GID: &gid, Binds: mount,
		Env:  []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C.UTF-8"},
		Argv: []string{bin + "/postgres", "-D", "/var/lib/rds/data"},
	}); err != nil {
		return err
	}
	if err := waitFor(60*time.Second, func() error { _, err := b.Admin(*db, "postgres", "SELECT 1"); return err }); err != nil {
		return fmt.Errorf("%s did not start: %w", db.Identifier, err)
	}
	setup := rdsSetup
	if db.DBName != "" {
		setup += `CREATE DATABASE :"dbname" OWNER :"master";` + "\n"
	}
	_, err = b.psqlAdmin(*db, "postgres", setup, "master="+db.MasterUsername, "password="+db.MasterPassword, "dbname="+db.DBName)
	return err
}

// Admin runs SQL as rdsadmin through the instance's socket (what only
// RDS itself can do) and returns psql's unaligned output.
func (b *Bed) Admin(db Database, dbname, sql string) (string, error) {
	return b.psqlAdmin(db, dbname, sql)
}

func (b *Bed) psqlAdmin(db Database, dbname, sql string, vars ...string) (string, error) {
	args := []string{"-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", db.Socket, "-U", "rdsadmin", "-d", dbname}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	cmd := exec.Command(b.Tools.Psql, args...)
	cmd.Stdin = strings.NewReader(sql)
	cmd.Env = []string{"PGCONNECT_TIMEOUT=5"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql as rdsadmin on %s: %v: %s", db.Identifier, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func chownR(dir string) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, postgresUID, postgresGID)
	})
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(text)
	return err
}

func waitFor(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Scratch is a set of fresh RDS-shaped instances, one for each of the
// plan's, answering the plan's addresses for the processes that use its
// HostsFile (the bed's own instances keep serving everything else).
type Scratch struct {
	Databases []Database
	HostsFile string
}

// ScratchDatabases starts fresh instances named tag, shaped and configured
// as the plan's (master user and password, database, parameters, TLS).
func (b *Bed) ScratchDatabases(tag string) (*Scratch, error) {
	if b.ca == nil {
		if err := b.loadCA(); err != nil {
			return nil, err
		}
	}
	params := b.parameterGroups()
	sc := &Scratch{}
	names := map[string]string{}
	for k, v := range b.State.Names {
		names[k] = v
	}
	for _, real := range b.State.Databases {
		db := Database{Identifier: real.Identifier, Address: real.Address, MasterUsername: real.MasterUsername,
			MasterPassword: real.MasterPassword, DBName: real.DBName, Host: "rds-" + tag + "-" + real.Identifier}
		b.StopHost(db.Host)
		_ = os.RemoveAll(b.path("rds", db.Host))
		ip, err := b.host(db.Host)
		if err != nil {
			return nil, err
		}
		db.IP = ip
		names[db.Address] = ip
		if err := b.startDatabase(&db, b.ca, params[real.Identifier]); err != nil {
			return nil, err
		}
		sc.Databases = append(sc.Databases, db)
	}
	sc.HostsFile = b.path("hosts-" + tag)
	return sc, os.WriteFile(sc.HostsFile, []byte(hostsText(names)), 0o644)
}
