package plan

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/components/database"
	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleDatabaseTLS is the check that every client of the database verifies
// the server: the chain to RDS's certificate authorities and the host name
// (libpq's sslmode verify-full, or the client's equivalent), against a
// bundle that is mounted where the client looks and holds the region's RDS
// root CA. It reads the clients from the rendered objects: JDBC URLs,
// libpq's variables, Temporal's variables and PgBouncer's configuration.
const RuleDatabaseTLS = "k8s/db-tls"

// pgbouncerServerTLS reads PgBouncer's settings of its connections to the
// server.
var pgbouncerServerTLS = regexp.MustCompile(`(?m)^\s*(server_tls_sslmode|server_tls_ca_file)\s*=\s*(\S+)\s*$`)

// container is one container of a pod, with its effective environment
// (the last of two variables of one name wins, as in the kubelet).
type container struct {
	name string
	body map[string]any
	env  map[string]string
}

// DatabaseClient is a container that connects to the database, as the
// k8s/db-tls check found it.
type DatabaseClient struct {
	// Pod is the pod ("Pod ns/name", or the workload it comes from).
	Pod string
	// Container is the container's name.
	Container string
	// Clients say how it connects: "jdbc", "libpq", "temporal", "pgbouncer".
	Clients []string
	// Problems say how it fails to verify the server (none when it does).
	Problems []string
}

// DatabaseClients lists every container of the plan's pods that connects
// to the database, and how each verifies the server.
func (p *Plan) DatabaseClients() []DatabaseClient {
	var out []DatabaseClient
	p.clusterView().eachDatabaseClient(func(o ClusterObject, ctr container, kinds, problems []string) {
		pod := o.Key()
		if o.Derived {
			pod = o.From
		}
		out = append(out, DatabaseClient{Pod: pod, Container: ctr.name, Clients: kinds, Problems: problems})
	})
	return out
}

func checkDatabaseTLS(c *clusterView) []mocks.Violation {
	var out []mocks.Violation
	c.eachDatabaseClient(func(o ClusterObject, ctr container, _, problems []string) {
		for _, problem := range problems {
			out = append(out, c.violation(o, RuleDatabaseTLS, "container %s: %s", ctr.name, problem))
		}
	})
	return out
}

// eachDatabaseClient calls f for every container of a pod that connects to
// the database, with how it connects and its problems.
func (c *clusterView) eachDatabaseClient(f func(o ClusterObject, ctr container, kinds, problems []string)) {
	for _, o := range c.objects {
		if o.Kind != "Pod" {
			continue
		}
		for _, ctr := range c.containers(o) {
			if kinds, problems := c.databaseClient(o, ctr); len(kinds) > 0 {
				f(o, ctr, kinds, problems)
			}
		}
	}
}

// databaseClient says how one container talks to the database (kinds),
// and lists how it does so without verifying the server.
func (c *clusterView) databaseClient(o ClusterObject, ctr container) (kinds, out []string) {
	region := c.region()
	ca := func(what, file string) {
		if file == "" {
			out = append(out, what+" names no CA bundle")
			return
		}
		content, ok := c.mountedFile(o, ctr, file)
		if !ok {
			out = append(out, fmt.Sprintf("%s %s is not mounted from a ConfigMap or Secret of the plan", what, file))
			return
		}
		if err := database.CheckCABundle([]byte(content), region, file); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", what, err))
		}
	}
	for name, v := range ctr.env {
		if !strings.HasPrefix(v, "jdbc:postgresql://") {
			continue
		}
		kinds = appendNew(kinds, "jdbc")
		u, err := url.Parse(strings.TrimPrefix(v, "jdbc:"))
		if err != nil {
			out = append(out, fmt.Sprintf("%s is not a URL: %v", name, err))
			continue
		}
		if mode := u.Query().Get("sslmode"); mode != "verify-full" {
			out = append(out, fmt.Sprintf("%s connects with sslmode %q, not verify-full", name, mode))
			continue
		}
		ca(name+"'s sslrootcert", u.Query().Get("sslrootcert"))
	}
	if _, ok := ctr.env["PGHOST"]; ok {
		kinds = append(kinds, "libpq")
		if mode := ctr.env["PGSSLMODE"]; mode != "verify-full" {
			out = append(out, fmt.Sprintf("libpq connects with PGSSLMODE %q, not verify-full", mode))
		} else {
			ca("PGSSLROOTCERT", ctr.env["PGSSLROOTCERT"])
		}
	}
	if _, ok := ctr.env["POSTGRES_SEEDS"]; ok {
		kinds = append(kinds, "temporal")
		for k, want := range map[string]string{"SQL_TLS_ENABLED": "true", "SQL_HOST_VERIFICATION": "true", "POSTGRES_TLS_DISABLE_HOST_VERIFICATION": "false"} {
			if got := ctr.env[k]; got != want {
				out = append(out, fmt.Sprintf("Temporal's %s is %q, want %q", k, got, want))
			}
		}
		ca("Temporal's SQL_CA", ctr.env["SQL_CA"])
		ca("Temporal's POSTGRES_TLS_CA_FILE", ctr.env["POSTGRES_TLS_CA_FILE"])
	}
	if ini, ok := c.mountedFile(o, ctr, "/etc/pgbouncer/pgbouncer.ini"); ok && strings.Contains(ini, "[databases]") {
		kinds = append(kinds, "pgbouncer")
		set := map[string]string{}
		for _, m := range pgbouncerServerTLS.FindAllStringSubmatch(ini, -1) {
			set[m[1]] = m[2]
		}
		if mode := set["server_tls_sslmode"]; mode != "verify-full" {
			out = append(out, fmt.Sprintf("PgBouncer connects to the server with server_tls_sslmode %q, not verify-full", mode))
		} else {
			ca("PgBouncer's server_tls_ca_file", set["server_tls_ca_file"])
		}
	}
	sort.Strings(out)
	return kinds, out
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// containers returns the containers (init containers first) of pod o,
// each with its effective environment.
func (c *clusterView) containers(o ClusterObject) []container {
	spec, _ := PodSpec(o.Body, "Pod")
	env := map[string]map[string]string{}
	for _, e := range c.env(o) {
		if env[e.container] == nil {
			env[e.container] = map[string]string{}
		}
		env[e.container][e.name] = e.value
	}
	var out []container
	for _, list := range []string{"initContainers", "containers"} {
		for _, ctr := range listOf(spec[list]) {
			name, _ := ctr["name"].(string)
			out = append(out, container{name: name, body: ctr, env: env[name]})
		}
	}
	return out
}

// mountedFile returns the content of file in container ctr of pod o, when
// a volume of a ConfigMap, a Secret or a synced Secret (an ExternalSecret's
// template) of the plan puts it there.
func (c *clusterView) mountedFile(o ClusterObject, ctr container, file string) (string, bool) {
	spec, _ := PodSpec(o.Body, "Pod")
	volumes := map[string]map[string]any{}
	for _, v := range listOf(spec["volumes"]) {
		n, _ := v["name"].(string)
		volumes[n] = v
	}
	for _, m := range listOf(ctr.body["volumeMounts"]) {
		mount, _ := m["mountPath"].(string)
		key, sub := "", StringAt(m, "subPath")
		switch {
		case sub != "" && mount == file:
			key = sub
		case sub == "" && path.Dir(file) == path.Clean(mount):
			key = path.Base(file)
		default:
			continue
		}
		v := volumes[StringAt(m, "name")]
		// A volume's items map keys to other paths.
		src, _ := v["configMap"].(map[string]any)
		kind, name := "ConfigMap", StringAt(v, "configMap", "name")
		if src == nil {
			src, _ = v["secret"].(map[string]any)
			kind, name = "Secret", StringAt(v, "secret", "secretName")
		}
		for _, it := range listOf(src["items"]) {
			if StringAt(it, "path") == key {
				key = StringAt(it, "key")
			}
		}
		if content, ok := c.objectData(o.Namespace, kind, name, key); ok {
			return content, true
		}
	}
	return "", false
}

// objectData returns key of the ConfigMap or Secret name in namespace, or
// of the template of the ExternalSecret that makes that Secret.
func (c *clusterView) objectData(namespace, kind, name, key string) (string, bool) {
	for _, x := range c.objects {
		if x.Namespace != namespace {
			continue
		}
		switch {
		case x.Kind == kind && x.Name == name:
			if s, ok := At(x.Body, "data", key).(string); ok {
				if kind == "Secret" {
					b, err := base64.StdEncoding.DecodeString(s)
					return string(b), err == nil
				}
				return s, true
			}
			if s, ok := At(x.Body, "stringData", key).(string); ok {
				return s, true
			}
		case kind == "Secret" && x.Kind == "ExternalSecret" && StringAt(x.Body, "spec", "target", "name") == name:
			if s, ok := At(x.Body, "spec", "target", "template", "data", key).(string); ok {
				return s, true
			}
		}
	}
	return "", false
}

// region is the AWS region the plan ran in.
func (c *clusterView) region() string {
	if c.p.region != "" {
		return c.p.region
	}
	s, _ := c.p.Outputs["region"].(string)
	return s
}
