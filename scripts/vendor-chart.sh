#!/usr/bin/env bash
# Vendors a Helm chart archive into charts/ and records its checksum, for a
# version bump: scripts/vendor-chart.sh CHART VERSION [REPOSITORY]
#
#   scripts/vendor-chart.sh airbyte 2.3.0
#   scripts/vendor-chart.sh karpenter 1.15.0
#
# It needs helm (go install helm.sh/helm/v3/cmd/helm@v3.22.0) and network
# access to the chart's repository. Then update the chart version in the stack
# files, run the plan and its diff (the rendered objects show what the bump
# changes), add a row to charts/SOURCE.md, and remove the archive of the old
# version once no stack pins it.
set -euo pipefail
chart=${1:?chart name, such as airbyte}
version=${2:?chart version, such as 2.3.0}
declare -A repos=(
  [airbyte]=https://airbytehq.github.io/charts
  [airflow]=https://airflow.apache.org
  [external-secrets]=https://charts.external-secrets.io
  [aws-load-balancer-controller]=https://aws.github.io/eks-charts
  [karpenter]=oci://public.ecr.aws/karpenter/karpenter
  [karpenter-crd]=oci://public.ecr.aws/karpenter/karpenter-crd
)
repo=${3:-${repos[$chart]:-}}
[ -n "$repo" ] || { echo "no repository known for chart $chart; pass it as the third argument" >&2; exit 2; }
cd "$(dirname "$0")/../charts"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$repo" in
  oci://*) helm pull "$repo" --version "$version" --destination "$tmp" ;;
  *) helm pull "$chart" --repo "$repo" --version "$version" --destination "$tmp" ;;
esac
file="$chart-$version.tgz"
[ -f "$tmp/$file" ] || { echo "helm pull did not produce $file" >&2; exit 1; }
# The archive must hold the chart and version its name says.
tar -xzOf "$tmp/$file" "$chart/Chart.yaml" | grep -qx "version: $version" \
  || { echo "$file does not hold chart $chart version $version" >&2; exit 1; }
mv "$tmp/$file" "$file"
# The project's patch of this version, if it has one (charts/patches/).
if [ -f "patches/$chart-$version.patch" ]; then
  ../scripts/patch-chart.sh "$file"
fi
sha256sum -- *.tgz > SHA256SUMS
echo "vendored charts/$file:"
grep " $file\$" SHA256SUMS
