package ingress

import "strings"

// URL is the address an app on host is reached behind c's load balancer: https when there is a
// certificate, http otherwise.
func URL(c Config, host string) string {
	if c.CertificateARN != "" {
		return "https://" + host
	}
	return "http://" + host
}

// Annotations are the ALB annotations of an app's Ingress for c (with
// defaults applied): the scheme,
// target pods by IP, HTTPS with the certificate (and a redirect from HTTP)
// when there is one, the allowed source blocks, and the health check path.
func Annotations(c Config, healthCheckPath string) map[string]string {
	a := map[string]string{
		"alb.ingress.kubernetes.io/scheme":           c.Scheme,
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/healthcheck-path": healthCheckPath,
	}
	if c.Group != "" {
		a["alb.ingress.kubernetes.io/group.name"] = c.Group
	}
	if c.CertificateARN != "" {
		a["alb.ingress.kubernetes.io/certificate-arn"] = c.CertificateARN
		a["alb.ingress.kubernetes.io/listen-ports"] = `[{"HTTP": 80}, {"HTTPS": 443}]`
		a["alb.ingress.kubernetes.io/ssl-redirect"] = "443"
		a["alb.ingress.kubernetes.io/ssl-policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	} else {
		a["alb.ingress.kubernetes.io/listen-ports"] = `[{"HTTP": 80}]`
	}
	if len(c.InboundCIDRs) > 0 {
		a["alb.ingress.kubernetes.io/inbound-cidrs"] = strings.Join(c.InboundCIDRs, ",")
	}
	return a
}
