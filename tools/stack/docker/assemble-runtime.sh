#!/bin/sh
# Assembles a service's runtime tree for its container image (see apps/<service>/Dockerfile and
# docs/decisions/0003-container-images.md). Run from the built repository (the image's build stage):
#
#   sh tools/stack/docker/assemble-runtime.sh <prod-deps dir> <out dir> <service>
#
# <prod-deps dir> holds the pruned production install (node_modules with only this service's
# dependencies). npm linked exactly the workspace packages the service needs under
# node_modules/@te/, so those links decide which dist folders are copied: nothing is listed by hand.
set -eu

prod=$1
out=$2
service=$3

[ -f "apps/$service/dist/main.js" ] || { echo "assemble-runtime: apps/$service/dist/main.js is missing (build first)" >&2; exit 1; }
[ -d "$prod/node_modules/@te" ] || { echo "assemble-runtime: no workspace links in $prod/node_modules/@te" >&2; exit 1; }

mkdir -p "$out"
cp -a "$prod/package.json" "$prod/node_modules" "$out/"

for link in "$prod"/node_modules/@te/*; do
  target=$(readlink "$link")          # ../../libs/platform
  workspace=${target#../../}          # libs/platform
  [ -f "$workspace/package.json" ] || { echo "assemble-runtime: $link points to $target, not a workspace" >&2; exit 1; }
  [ -d "$workspace/dist" ] || { echo "assemble-runtime: $workspace/dist is missing (not built?)" >&2; exit 1; }
  mkdir -p "$out/$workspace"
  cp -a "$workspace/package.json" "$workspace/dist" "$out/$workspace/"
  # Versions that could not be hoisted live beside the workspace (e.g. libs/platform/node_modules).
  if [ -d "$prod/$workspace/node_modules" ]; then cp -a "$prod/$workspace/node_modules" "$out/$workspace/"; fi
  echo "assemble-runtime: $workspace"
done

# The migration job runs from the same image: it needs the schema and its migrations.
if [ -d "apps/$service/prisma" ]; then cp -a "apps/$service/prisma" "$out/apps/$service/"; fi
# @te/grpc loads the contracts at run time (PROTO_ROOT).
cp -a proto "$out/"

# Build bookkeeping has no use at run time.
find "$out" -name '*.tsbuildinfo' -not -path '*/node_modules/*' -delete
