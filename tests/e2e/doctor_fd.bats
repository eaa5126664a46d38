#!/usr/bin/env bats
# twkit doctor's fd-limit finding on the real kernel: a process of ours (tests/helpers/fd_hold)
# holds established loopback connections in a private network namespace, and doctor runs under
# a RLIMIT_NOFILE set with prlimit. The warning fires when one uid holds open TCP sockets
# >= 80 % of that limit and stays quiet in a twin with a large limit; the kernel then shows
# what the finding claims: a process at that limit fails with EMFILE.
# (The critical half, fs.file-nr near fs.file-max, is one number for the whole host: not
# something a test may change.)

load lib/doctor

HOLD="$TWKIT_BUILD/tests/helpers/fd_hold"
# 200 connections, both ends ours: 400 TCP sockets. 400 >= 0.8 x 450 (360) warns; against
# 4096 (3,277 is 80 %) it must not.
CONN=200
LIM_TIGHT=450
LIM_WIDE=4096

setup() {
	command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
	TMP=$(mktemp -d)
	export TMP HOLD
}

# bats's own EXIT trap runs this, pass or fail (a trap of our own would replace bats's). The
# helper also ends when the namespace's shell does (its stdin closes) or after 30 s.
teardown() {
	[ -n "${TMP:-}" ] || return 0
	if [ -s "$TMP/pid" ]; then
		kill "$(cat "$TMP/pid")" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

# Inside in_ns: start fd_hold [prlimit args --] -n CONN [...] in the background, its stdin a
# fifo this shell keeps open, its PID in $TMP/pid, and wait (up to 5 s) for "ready".
hold_start() {
	mkfifo "$TMP/in"
	exec 9<>"$TMP/in" # read-write: the open never blocks, and EOF comes when this shell ends
	"$@" <"$TMP/in" >"$TMP/hold.out" 2>&1 9>&- &
	echo $! >"$TMP/pid"
	for _ in $(seq 100); do
		grep -q '^ready' "$TMP/hold.out" && return 0
		grep -q '^failed' "$TMP/hold.out" && break
		sleep 0.05
	done
	cat "$TMP/hold.out" >&2
	return 1
}
export -f hold_start

fd_finding() { # $1 json file, $2 jq path under the fd-limit finding
	jq -r ".findings[] | select(.id == \"fd-limit\") | $2" "$1"
}

@test "doctor fd: one uid's sockets at 89% of RLIMIT_NOFILE warn, and that process hits EMFILE" {
	in_ns "hold_start prlimit --nofile=$LIM_TIGHT:$LIM_TIGHT \"\$HOLD\" -n $CONN -x 100 -t 30 &&
	       prlimit --nofile=$LIM_TIGHT:$LIM_TIGHT '$TWKIT' doctor --json > '$TMP/d.json'"
	d="$TMP/d.json"
	uid=$(id -u)
	[ "$(jq .settings.rlimit_nofile.soft "$d")" -eq "$LIM_TIGHT" ]
	[ "$(jq '.sockets.by_state.ESTAB' "$d")" -eq $((2 * CONN)) ]
	[ "$(fd_finding "$d" .severity)" = warning ]
	summary=$(fd_finding "$d" .summary)
	[[ "$summary" == "uid $uid holds $((2 * CONN)) open TCP sockets, near the RLIMIT_NOFILE of $LIM_TIGHT"* ]]
	[[ "$summary" == *"EMFILE"* ]]
	fd_finding "$d" '.evidence[]' | grep -q "soft $LIM_TIGHT, hard $LIM_TIGHT"
	# the kernel's side of the claim: the process holding those sockets under the same
	# limit could open only the few descriptors left, then socket() failed with EMFILE
	grep -q "^ready: $CONN connections, $((2 * CONN)) sockets" "$TMP/hold.out"
	probe=$(grep '^probe:' "$TMP/hold.out")
	[[ "$probe" =~ ^probe:\ opened\ ([0-9]+)\ of\ 100\ more\ sockets,\ then\ EMFILE,\ ([0-9]+)\ fds\ open,\ limit\ $LIM_TIGHT$ ]]
	[ "${BASH_REMATCH[1]}" -lt 50 ] # 450 - 400 sockets - listener - stdio
	[ "${BASH_REMATCH[2]}" -eq "$LIM_TIGHT" ]
}

@test "doctor fd: healthy twin, the same 400 sockets under a limit of 4096, no fd-limit" {
	in_ns "hold_start prlimit --nofile=$LIM_WIDE:$LIM_WIDE \"\$HOLD\" -n $CONN -x 100 -t 30 &&
	       prlimit --nofile=$LIM_WIDE:$LIM_WIDE '$TWKIT' doctor --json > '$TMP/d.json'"
	d="$TMP/d.json"
	[ "$(jq .settings.rlimit_nofile.soft "$d")" -eq "$LIM_WIDE" ]
	[ "$(jq '.sockets.by_state.ESTAB' "$d")" -eq $((2 * CONN)) ]
	[ -z "$(fd_finding "$d" .id)" ]
	# and the process there has room: all 100 more sockets opened
	grep -q '^probe: opened 100 of 100 more sockets, [0-9]* fds open, limit 4096$' "$TMP/hold.out"
}

@test "doctor fd: asked for more sockets than its limit, the process fails with EMFILE at the limit" {
	# 250 connections = 500 sockets against a limit of 450
	run in_ns "prlimit --nofile=$LIM_TIGHT:$LIM_TIGHT '$HOLD' -n 250 -t 0 </dev/null"
	[ "$status" -eq 1 ]
	[[ "$output" =~ ^failed:\ connection\ ([0-9]+)\ of\ 250:\ (socket|accept):\ EMFILE,\ ([0-9]+)\ fds\ open,\ limit\ $LIM_TIGHT$ ]]
	[ "${BASH_REMATCH[1]}" -le 225 ] # at most (450 - 1 listener) / 2 connections fit
	[ "${BASH_REMATCH[3]}" -eq "$LIM_TIGHT" ]
}
