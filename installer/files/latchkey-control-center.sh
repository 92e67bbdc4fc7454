#!/bin/sh
# `latchkey control-center` from the Control Center package, reading
# /etc/latchkey/control-center.json unless --config names another file. Run it as the service
# user (runuser -u latchkey-control-center -- latchkey-control-center --create-admin-token NAME)
# so files it creates stay the server's.
exec /usr/lib/latchkey-control-center/node/bin/node --lite-mode --no-expose-wasm --single-threaded-gc /usr/lib/latchkey-control-center/bin/latchkey.js control-center "$@"
