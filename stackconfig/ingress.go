package stackconfig

import (
	"regexp"
	"strings"

	"github.com/dataplatform/dataplatform/internal/validate"
)

// Ingress is the stack config of ingress (dataplatform:apps.ingress).
type Ingress struct {
	// ChartVersion pins the aws-load-balancer-controller chart, such as "3.5.0". Required.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Replicas of the controller. Default 2.
	Replicas int `json:"replicas,omitempty"`
	// Scheme of the load balancers: "internal" (default: reachable from the
	// VPC and what is connected to it) or "internet-facing".
	Scheme string `json:"scheme,omitempty"`
	// CertificateARN is an ACM certificate for HTTPS; without one the
	// load balancers listen on HTTP (port 80) only.
	CertificateARN string `json:"certificateArn,omitempty"`
	// Group is the ingress group the apps' ingresses join, so they share one
	// load balancer (about $16 a month each otherwise). Default: the
	// platform's name.
	Group string `json:"group,omitempty"`
	// InboundCIDRs restrict who reaches the load balancers. Required for
	// "internet-facing"; 0.0.0.0/0 is refused.
	InboundCIDRs []string `json:"inboundCidrs,omitempty"`
}

var (
	acmARN  = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$`)
	ipv4Net = regexp.MustCompile(`^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$`)
)

// WithDefaults returns c with every unset field given its default.
func (c Ingress) WithDefaults() Ingress {
	if c.Replicas == 0 {
		c.Replicas = 2
	}
	if c.Scheme == "" {
		c.Scheme = "internal"
	}
	return c
}

// Validate reports every problem of a defaulted Ingress.
func (c Ingress) Validate() *validate.Problems {
	var p validate.Problems
	if !semver.MatchString(c.ChartVersion) {
		p.Addf("chartVersion", "required: a chart version such as \"3.5.0\", got %q", c.ChartVersion)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		p.Addf("replicas", "want 1 to 5, got %d", c.Replicas)
	}
	if c.Scheme != "internal" && c.Scheme != "internet-facing" {
		p.Addf("scheme", "want %s, got %q", validate.OneOf("internal", "internet-facing"), c.Scheme)
	}
	if c.CertificateARN != "" && !acmARN.MatchString(c.CertificateARN) {
		p.Addf("certificateArn", "want an ACM certificate ARN, got %q", c.CertificateARN)
	}
	if c.Scheme == "internet-facing" && len(c.InboundCIDRs) == 0 {
		p.Addf("inboundCidrs", "required for an internet-facing load balancer: the blocks allowed in")
	}
	for i, cidr := range c.InboundCIDRs {
		switch {
		case !ipv4Net.MatchString(cidr):
			p.Addf(validate.Index("inboundCidrs", i), "want an IPv4 CIDR block, got %q", cidr)
		case strings.HasSuffix(cidr, "/0"):
			p.Addf(validate.Index("inboundCidrs", i), "%q opens the apps to the whole internet; list the blocks that need them", cidr)
		}
	}
	return &p
}
