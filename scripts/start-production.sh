#!/bin/sh
# How Tessera runs in production: the compiled service (`npm run build` made dist/) under plain node,
# no tsx, with memory defaults that must be set before node starts. Each default gives way to a value
# already in the environment. exec: node replaces this shell, so SIGTERM reaches it even as PID 1.
#   MALLOC_ARENA_MAX=1: glibc gives threads that malloc (libuv's, running argon2) arenas of their own,
#     and each keeps the 19 MiB blocks argon2 freed; in the one main arena they are given back.
#   --max-semi-space-size=8: V8's young generation is two semi-spaces of 16 MiB each by default.
# Arguments are node's (e.g. --cpu-prof, which NODE_OPTIONS does not take).
# See README, "Performance" (memory), for the measurements.
set -eu
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
# V8 takes the last of repeated flags: NODE_OPTIONS from the environment overrides this default.
export NODE_OPTIONS="--max-semi-space-size=8${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node "$@" "$(dirname "$0")/../dist/main.js" start
