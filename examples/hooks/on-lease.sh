#!/bin/sh
# A leased hook script: keeps a hosts file of the bound leases, one
# "ADDRESS HOSTNAME" line per lease, for dnsmasq's addn-hosts or a
# resolver that reads such a file. The event is in LEASED_* variables
# (docs/operations.md, "Lease event hooks"); the same as JSON is on
# standard input, for tools that prefer it (jq).
#
# Install it as /usr/local/lib/leased/on-lease, executable by the user
# leased runs as, and set hooks.script.path to it.
set -eu

HOSTS=${LEASED_HOSTS_FILE:-/var/lib/leased/hosts}
LOCK="$HOSTS.lock"

# Host names come from clients: keep letters, digits and hyphens only.
name=$(printf '%s' "${LEASED_HOSTNAME:-}" | tr -cd 'A-Za-z0-9-' | cut -c1-63)

touch "$HOSTS"
(
	flock 9
	# Drop the address's line, then add it back while the lease lives.
	grep -v "^$LEASED_ADDRESS " "$HOSTS" >"$HOSTS.new" || true
	case "$LEASED_EVENT" in
	commit | renew)
		[ -n "$name" ] && printf '%s %s\n' "$LEASED_ADDRESS" "$name" >>"$HOSTS.new"
		;;
	esac
	mv "$HOSTS.new" "$HOSTS"
) 9>"$LOCK"

logger -t leased-hook "$LEASED_EVENT $LEASED_ADDRESS ${name:-(no name)}" 2>/dev/null || true
