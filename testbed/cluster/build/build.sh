#!/usr/bin/env bash
# build.sh CACHE_DIR: builds the binaries of the cluster test bed from the Go
# module proxy, each into a directory of CACHE_DIR keyed by its version:
#
#   CACHE_DIR/kubernetes-1.35.4/bin/  kube-apiserver kube-controller-manager
#                                     kube-scheduler kubectl   (./kubernetes/)
#   CACHE_DIR/kwok-0.7.0/bin/         kwok                     (go install)
#
# Karpenter core with its KWOK provider (sigs.k8s.io/karpenter/kwok@v1.14.1)
# is not built yet: the bed does not run it (see testbed/README.md).
#
# A binary that exists is not built again, and each is moved into place only
# once it is complete, so the script can be rerun after a failure. It prints
# each build's wall time and peak RSS (GNU time; the peak is that of the
# largest process of the build, normally the linker).
#
# Kubernetes needs the module in ./kubernetes (see its go.mod for why). kwok and
# Karpenter's KWOK provider have no replace directives, so `go install
# module/pkg@version` builds them as they are published.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 CACHE_DIR" >&2
  exit 2
fi
mkdir -p "$1"
cache=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

K8S_VERSION=1.35.4
KWOK_VERSION=0.7.0

# Static binaries as upstream ships them; DWARF left out (smaller, links with
# less memory); a lazier GC trades memory for speed on small machines.
export CGO_ENABLED=0
export GOGC="${GOGC:-400}"
export GOFLAGS="-buildvcs=false -modcacherw"
TIME=/usr/bin/time # GNU time, for -v (Debian package "time")

# timed NAME CMD...: runs CMD, then prints NAME, wall time and peak RSS.
timed() {
  local name=$1 log
  shift
  log=$(mktemp)
  if ! "$TIME" -v -o "$log" "$@"; then
    cat "$log" >&2
    rm -f "$log"
    echo "build.sh: building $name failed" >&2
    return 1
  fi
  awk -v n="$name" '
    /Elapsed \(wall clock\)/ { wall = $NF }
    /Maximum resident set size/ { rss = $NF }
    END { printf "%-26s wall %8s  peak RSS %6.0f MiB\n", n, wall, rss / 1024 }' "$log"
  rm -f "$log"
}

# Kubernetes. The version is stamped as upstream's hack/lib/version.sh does
# (component-base and client-go); without it the binaries report v0.0.0-master.
k8s_bin="$cache/kubernetes-$K8S_VERSION/bin"
mkdir -p "$k8s_bin"
k8s_ldflags="-w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION"
  k8s_ldflags+=" -X $pkg.gitMajor=${K8S_VERSION%%.*}"
  k8s_ldflags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean"
done
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  if [[ -x "$k8s_bin/$cmd" ]]; then
    echo "$cmd: $k8s_bin/$cmd exists"
    continue
  fi
  (cd "$here/kubernetes" &&
    timed "$cmd" go build -ldflags "$k8s_ldflags" -o "$k8s_bin/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$k8s_bin/.$cmd.tmp" "$k8s_bin/$cmd"
done

# go_install NAME PKG@VERSION DEST: `go install` into a scratch GOBIN, then the
# binary (named after PKG's last element) moved to DEST.
go_install() {
  local name=$1 pkg=$2 dest=$3 gobin
  if [[ -x "$dest" ]]; then
    echo "$name: $dest exists"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  gobin=$(mktemp -d "$(dirname "$dest")/.gobin.XXXXXX")
  # Run from a directory outside any module, so no go.mod or go.work applies.
  (cd "$gobin" && timed "$name" env GOBIN="$gobin" go install -ldflags "-w" "$pkg")
  local base=${pkg%@*}
  mv "$gobin/${base##*/}" "$dest"
  rmdir "$gobin"
}

# kwok v0.7.0 reports its version from source (pkg/consts.Version), no ldflags.
go_install kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" \
  "$cache/kwok-$KWOK_VERSION/bin/kwok"
echo "binaries:"
ls -l "$k8s_bin" "$cache/kwok-$KWOK_VERSION/bin"
