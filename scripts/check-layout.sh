#!/usr/bin/env bash
# check-layout.sh - the rules of the house that the compiler does not check
# (shared design guide, "Layout"): the client and the relay never depend on
# the server's packages, no source file grows past 700 lines, and every
# package builds on the platforms leased claims to build on.
#
# Usage, from anywhere in a clone: scripts/check-layout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

# The client and the relay must not carry the server.
bad=$(go list -deps ./client/... ./relay/... | grep -E '^leased/(server|config|alloc|lease|netio)(/|$)' || true)
if [ -n "$bad" ]; then
	echo "client or relay depends on server packages:"
	echo "$bad"
	fail=1
fi

# No source file over 700 lines, tests aside.
long=$(git ls-files '*.go' | grep -v '_test\.go$' | xargs wc -l | awk '$2 != "total" && $1 > 700 { print }')
if [ -n "$long" ]; then
	echo "source files over 700 lines:"
	echo "$long"
	fail=1
fi

# Every package builds everywhere; the Linux-only parts fail at run time.
for os in darwin freebsd; do
	if ! GOOS=$os go build ./... ; then
		echo "GOOS=$os go build ./... failed"
		fail=1
	fi
	if ! GOOS=$os go vet ./... ; then
		echo "GOOS=$os go vet ./... failed"
		fail=1
	fi
done

if [ "$fail" = 0 ]; then
	echo "layout: ok"
fi
exit "$fail"
