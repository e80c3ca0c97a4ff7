//go:build tools

// Package tools records the commands this module builds, so that `go mod tidy`
// keeps every module they need. ../build.sh runs
// `go build -o ... k8s.io/kubernetes/cmd/<name>` for each.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
