// Package spec holds the plain configuration of every component: the types
// of the stack config sections, their defaults and their validation. It
// imports no cloud SDK, so it can be checked, documented and fuzzed alone;
// the component packages expose these types under their own names
// (network.Config is stackconfig.Network).
package stackconfig

import "regexp"

var (
	semver   = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	quantity = regexp.MustCompile(`^\d+(\.\d+)?(m|Mi|Gi)?$`)
	hostname = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// retentionDays are the retention periods CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Default namespaces of the apps.
const (
	AirbyteNamespace = "airbyte"
	AirflowNamespace = "airflow"
)
