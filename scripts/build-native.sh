#!/usr/bin/env bash
# Builds every native artefact the tests and the bench use, once, before ava starts (npm test's
# pretest): the TAP addon, the xsnap worker and the host-device program. Test files only check
# that these exist; building from inside them raced when ava ran files in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."

# The TAP addon (npm ci's install script configures it; build again only what changed).
[ -f native/tap/build/Makefile ] || node-gyp configure --loglevel=warn -C native/tap
node-gyp build --loglevel=warn -C native/tap >/dev/null

# The xsnap worker, which @agoric/xsnap builds in its postinstall.
ls node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/*/release/xsnap-worker >/dev/null 2>&1 \
  || npm rebuild @agoric/xsnap >/dev/null

# XS + Debian's lwIP + the device glue (make: only what changed).
make -s -j2 -C native/host-device
