#!/bin/sh
# Vendors the file:// chart dependencies, offline: te-common into each service chart, then the
# service charts (with their te-common) into the te-explico umbrella. Run after any chart change.
#   helm/build-dependencies.sh            (HELM=/path/to/helm to use another binary)
set -eu
helm="${HELM:-helm}"
cd "$(dirname "$0")"
for chart in charts/*/; do
  [ "$chart" = charts/te-common/ ] && continue
  "$helm" dependency build "$chart"
done
"$helm" dependency build te-explico
