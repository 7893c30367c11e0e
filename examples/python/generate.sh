#!/usr/bin/env sh
# Generates the Python stubs of Tessera's API from proto/ with Debian's protoc
# and grpc_python_plugin (packages protobuf-compiler, protobuf-compiler-grpc)
# into examples/python/gen/. The google.protobuf types come with python3-protobuf.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out="$here/gen"
rm -rf "$out"
mkdir -p "$out"
protoc -I "$proto" \
  --python_out="$out" \
  --grpc_out="$out" \
  --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" \
  "$proto"/tessera/v1/*.proto "$proto"/google/rpc/*.proto
