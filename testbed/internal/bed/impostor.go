package bed

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Impostor is a host that answers every name of the bed (the RDS
// instances, AWS's endpoints, Cognito, the load balancer) with a server
// the clients must refuse: with certificates from a CA nothing trusts
// ("other-ca"), or from the bed's CA but for a name the clients did not
// ask for ("wrong-name"). Its HostsFile points the names at it.
type Impostor struct {
	Kind      string
	IP        string
	HostsFile string
}

// ImpostorNames is what a wrong-name impostor's certificates name.
const ImpostorNames = "impostor.testbed.invalid"

// Impostor starts (once) an impostor of kind "other-ca" or "wrong-name":
// an RDS-shaped PostgreSQL with the plan's master user (so that only the
// certificate can tell it apart), and nginx on 443 in front of the bed's
// AWS endpoints and Cognito.
func (b *Bed) Impostor(kind string) (*Impostor, error) {
	if b.ca == nil {
		if err := b.loadCA(); err != nil {
			return nil, err
		}
	}
	host := "impostor-" + kind
	ca := b.other
	names := func(n ...string) []string { return n }
	if kind == "wrong-name" {
		ca = b.ca
		names = func(...string) []string { return []string{ImpostorNames} }
	} else if kind != "other-ca" {
		return nil, fmt.Errorf("no impostor of kind %q", kind)
	}
	hostsFile := b.path("hosts-" + host)
	if ip, ok := b.State.Hosts[host]; ok {
		if _, err := os.Stat(hostsFile); err == nil {
			return &Impostor{Kind: kind, IP: ip, HostsFile: hostsFile}, nil
		}
	}
	b.StopHost(host)
	ip, err := b.host(host)
	if err != nil {
		return nil, err
	}
	real := b.State.Databases[0]
	db := Database{Identifier: real.Identifier, Address: real.Address, MasterUsername: real.MasterUsername,
		MasterPassword: real.MasterPassword, Host: host}
	_ = os.RemoveAll(b.path("rds", host))
	if err := b.startDatabaseAs(&db, ca, names(real.Address), nil); err != nil {
		return nil, err
	}
	// nginx: every HTTPS name of the bed, forwarded to the real server.
	var servers []string
	for name, target := range b.State.Names {
		if strings.HasSuffix(name, ".rds.amazonaws.com") || !strings.Contains(name, ".") || target == "" {
			continue
		}
		pair, err := ca.Issue(names(name)...)
		if err != nil {
			return nil, err
		}
		cert, key, err := pair.Write(b.path("procs"), host+"-"+name)
		if err != nil {
			return nil, err
		}
		servers = append(servers, fmt.Sprintf("  server {\n    listen 443 ssl;\n    server_name %s;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    location / { proxy_pass https://%s; proxy_ssl_verify off; proxy_set_header Host $http_host; }\n  }", name, cert, key, target))
	}
	if err := b.startNginx(host, host+"-nginx", fmt.Sprintf(albConf, strings.Join(servers, "\n"))); err != nil {
		return nil, err
	}
	if err := waitTCP(ip+":443", 30*time.Second); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for n := range b.State.Names {
		m[n] = ip
	}
	if err := os.WriteFile(hostsFile, []byte(hostsText(m)), 0o644); err != nil {
		return nil, err
	}
	return &Impostor{Kind: kind, IP: ip, HostsFile: hostsFile}, b.save()
}
