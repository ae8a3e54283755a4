#!/usr/bin/env bash
# Builds the DocC documentation of every library module into .build/docs/<Module>, with the
# Swift toolchain alone (no package dependency): `swift build`, then per module the
# toolchain's swift-symbolgraph-extract and `docc convert --warnings-as-errors`, so a broken
# symbol link or article reference fails. CI runs it.
#
#   Scripts/docs.sh                 # every module
#   Scripts/docs.sh Tensor Autograd # some
#   python3 -m http.server -d .build/docs/Tensor 8000   # then open localhost:8000/documentation/tensor
set -euo pipefail
cd "$(dirname "$0")/.."

modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(Tensor Autograd NN Optim Data Distributed CUDABackend)

swift build
bin="$(swift build --show-bin-path)"
case "$(uname -s)" in
  Darwin) triple="$(uname -m)-apple-macosx14.0" ;;
  *) triple="$(uname -m)-unknown-linux-gnu" ;;
esac
# The C modules the Swift modules import: SwiftPM's generated module maps and the
# system-library targets' own.
maps=()
for map in "$bin"/*.build/module.modulemap Sources/C*/module.modulemap; do
  [ -f "$map" ] && maps+=(-Xcc "-fmodule-map-file=$(cd "$(dirname "$map")" && pwd)/module.modulemap")
done

for module in "${modules[@]}"; do
  graphs=".build/symbol-graphs/$module"
  rm -rf "$graphs" ".build/docs/$module"
  mkdir -p "$graphs" .build/docs
  swift-symbolgraph-extract -module-name "$module" -target "$triple" -I "$bin/Modules" "${maps[@]}" \
    -output-dir "$graphs" -minimum-access-level public
  docc convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$graphs" \
    --output-path ".build/docs/$module" --fallback-display-name "$module" \
    --fallback-bundle-identifier "org.swift-tensor.$module" --transform-for-static-hosting --warnings-as-errors
  echo "documentation: .build/docs/$module"
done
