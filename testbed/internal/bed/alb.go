package bed

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dataplatform/dataplatform/testbed/internal/planjson"
)

// albHost plays the Application Load Balancer the AWS Load Balancer
// Controller makes from the apps' Ingresses: nginx listening on the
// Ingress's listen-ports (HTTPS with a certificate from the bed's CA, in
// place of the ACM certificate the annotation names), forwarding plain HTTP
// to the backend pods (target-type ip) with the headers an ALB adds
// (X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Port; the Host header
// is kept) and X-Forwarded-Host, which some proxies add.
const albHost = "alb"

type ingress struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
		Namespace   string            `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Rules []struct {
			Host string `json:"host"`
			HTTP struct {
				Paths []struct {
					Path    string `json:"path"`
					Backend struct {
						Service struct {
							Name string `json:"name"`
							Port struct {
								Name   string `json:"name"`
								Number int    `json:"number"`
							} `json:"port"`
						} `json:"service"`
					} `json:"backend"`
				} `json:"paths"`
			} `json:"http"`
		} `json:"rules"`
	} `json:"spec"`
}

// startALB fronts the Ingress of each app that runs in the bed.
func (b *Bed) startALB(namespaces ...string) error {
	ip, err := b.host(albHost)
	if err != nil {
		return err
	}
	var servers []string
	for _, o := range b.Objects {
		if o.Kind() != "Ingress" || !contains(namespaces, o.Namespace()) {
			continue
		}
		var ing ingress
		if err := planjson.Decode(o.Map, &ing); err != nil {
			return err
		}
		var ports []map[string]int
		if err := json.Unmarshal([]byte(ing.Metadata.Annotations["alb.ingress.kubernetes.io/listen-ports"]), &ports); err != nil {
			return fmt.Errorf("%s: listen-ports: %w", o.Key(), err)
		}
		for _, rule := range ing.Spec.Rules {
			if err := b.resolve(ip, rule.Host); err != nil {
				return err
			}
			backend := rule.HTTP.Paths[0].Backend.Service
			port, err := b.servicePort(o.Namespace(), backend.Name, backend.Port.Name, backend.Port.Number)
			if err != nil {
				return fmt.Errorf("%s: %w", o.Key(), err)
			}
			target := fmt.Sprintf("http://%s.%s:%d", backend.Name, o.Namespace(), port)
			// ssl-redirect: the HTTP listener answers with a redirect to
			// HTTPS, as the controller's redirect action does.
			redirect := ing.Metadata.Annotations["alb.ingress.kubernetes.io/ssl-redirect"]
			scheme := "http"
			for _, lp := range ports {
				for proto, n := range lp {
					srv, err := b.albServer(proto, n, rule.Host, target, redirect)
					if err != nil {
						return err
					}
					servers = append(servers, srv)
					if proto == "HTTPS" {
						scheme = "https"
					}
				}
			}
			if o.Namespace() == airflowNS {
				b.State.Airflow.URL = scheme + "://" + rule.Host
			}
		}
	}
	conf := fmt.Sprintf(albConf, strings.Join(servers, "\n"))
	if err := b.startNginx(albHost, "alb", conf); err != nil {
		return err
	}
	return waitFor(30*time.Second, func() error {
		if strings.HasPrefix(b.State.Airflow.URL, "https") {
			return waitTCP(ip+":443", time.Second)
		}
		return waitTCP(ip+":80", time.Second)
	})
}

func (b *Bed) albServer(proto string, port int, host, target, redirect string) (string, error) {
	if proto == "HTTP" && redirect != "" {
		return fmt.Sprintf("  server {\n    listen %d;\n    server_name %s;\n    return 301 https://$host:%s$request_uri;\n  }", port, host, redirect), nil
	}
	tls := ""
	if proto == "HTTPS" {
		pair, err := b.ca.Issue(host)
		if err != nil {
			return "", err
		}
		cert, key, err := pair.Write(b.path("procs"), "alb-"+host)
		if err != nil {
			return "", err
		}
		// The ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 admits TLS 1.2
		// and 1.3 only.
		tls = fmt.Sprintf(" ssl;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_certificate %s;\n    ssl_certificate_key %s", cert, key)
	}
	return fmt.Sprintf(`  server {
    listen %d%s;
    server_name %s;
    location / {
      proxy_pass %s;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-Host $host;
      proxy_http_version 1.1;
      proxy_buffering off;
    }
  }`, port, tls, host, target), nil
}

const albConf = `daemon off;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  access_log /dev/stdout;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  client_max_body_size 0;
  resolver_timeout 1s;
  server_names_hash_bucket_size 128;
%s
}
`

// servicePort finds a Service's port number by name (or number).
func (b *Bed) servicePort(ns, name, portName string, number int) (int, error) {
	o, ok := planjson.Find(b.Objects, "Service", ns, name)
	if !ok {
		return 0, fmt.Errorf("no Service %s/%s", ns, name)
	}
	var svc struct {
		Spec struct {
			Ports []struct {
				Name string `json:"name"`
				Port int    `json:"port"`
			} `json:"ports"`
		} `json:"spec"`
	}
	_ = planjson.Decode(o.Map, &svc)
	for _, p := range svc.Spec.Ports {
		if (portName != "" && p.Name == portName) || (number != 0 && p.Port == number) {
			return p.Port, nil
		}
	}
	return 0, fmt.Errorf("Service %s/%s has no port %q", ns, name, portName)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
