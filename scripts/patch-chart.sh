#!/usr/bin/env bash
# Applies the project's patch of a vendored chart archive in place and
# repacks it reproducibly: scripts/patch-chart.sh charts/airbyte-2.2.0.tgz
#
# The patch is charts/patches/<chart>-<version>.patch (its header says why).
# scripts/vendor-chart.sh runs this after pulling an archive that has one;
# on a version bump, port the patch to the new version's templates (or drop
# it once upstream has a value for it), then run the plan: check
# k8s/env-unique and k8s/db-tls say whether it is still needed and still
# works. Record both checksums in charts/SOURCE.md.
set -euo pipefail
archive=${1:?chart archive, such as charts/airbyte-2.2.0.tgz}
base=$(basename "$archive" .tgz)
chart=${base%-*}
patchfile="$(cd "$(dirname "$0")/.." && pwd)/charts/patches/$base.patch"
[ -f "$patchfile" ] || { echo "no patch $patchfile" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$archive" -C "$tmp"
# Refuse an archive that is already patched (or a patch that no longer fits).
(cd "$tmp" && patch --dry-run -p1 -s < "$patchfile" >/dev/null) \
  || { echo "$patchfile does not apply to $archive (already patched, or written for other templates)" >&2; exit 1; }
(cd "$tmp" && patch -p1 -s --no-backup-if-mismatch < "$patchfile")
# Same bytes on every machine: sorted entries, root-owned, fixed times.
(cd "$tmp" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=go-w -cf - "$chart") | gzip -n -9 > "$archive.new"
mv "$archive.new" "$archive"
sha256sum "$archive"
