# Helpers for the twkit lab end-to-end tests (tests/e2e/lab*.bats).
# lab runs build their own namespaces named twk-lab-<pid>-<role>; these helpers only look at,
# and only remove, names of that form whose pid is one the test started.

lab_need_root() {
	[ "$(id -u)" -eq 0 ] || skip "twkit lab needs root"
	command -v ip >/dev/null && command -v nft >/dev/null || skip "needs ip and nft"
}

# Namespaces of lab run $1 (a pid) still present, one per line.
lab_ns_of() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^twk-lab-$1-" || true
}

# Wait up to $2 seconds (default 300: another suite may hold the lab lock first) for run $1
# to have created its namespaces.
lab_wait_ns() {
	local i
	for ((i = 0; i < ${2:-300} * 10; i++)); do
		[ -n "$(lab_ns_of "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

# Remove whatever run $1 left (used after --keep, and as a safety net in teardown).
lab_ns_remove() {
	local n
	for n in $(lab_ns_of "$1"); do ip netns delete "$n"; done
}

# Run a lab scenario with --json; the document goes to $LAB_JSON.
# Another lab run (another suite on this machine) may hold the host-wide lock: wait for it,
# boundedly, unless the caller gives its own --wait.
LAB_WAIT=(--wait 10m)

lab_json() {
	local w=("${LAB_WAIT[@]}")
	[[ " $* " == *" --wait "* ]] && w=()
	LAB_JSON="$BATS_TEST_TMPDIR/lab.json"
	"$TWKIT" lab "$@" "${w[@]}" --json >"$LAB_JSON" 2>"$BATS_TEST_TMPDIR/lab.err"
}

# jq on the last document.
lj() { jq -r "$@" "$LAB_JSON"; }

# The relay lab picks without --relay: nginx when installed, else twkit's own.
lab_default_relay() {
	if [ -x /usr/sbin/nginx ]; then echo nginx; else echo twkit; fi
}

lab_need_nginx() {
	[ -x /usr/sbin/nginx ] || skip "needs nginx (apt-get install nginx-light)"
}

# nginx's private directory of lab run $1, if still there.
lab_nginx_dir_of() {
	local d
	for d in "${TMPDIR:-/tmp}"/twk-lab-"$1"-nginx.??????; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

# Remove it (teardown's safety net): only the names lab writes there.
lab_nginx_dir_remove() {
	local d
	for d in $(lab_nginx_dir_of "$1"); do
		rm -f "$d/nginx.conf" "$d/nginx.pid" "$d/error.log"
		rmdir "$d"/client_body "$d"/proxy "$d"/fastcgi "$d"/uwsgi "$d"/scgi "$d" 2>/dev/null || true
	done
}
