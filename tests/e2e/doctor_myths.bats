#!/usr/bin/env bats
# twkit doctor's myth findings, end to end: the sysctls set inside a private network namespace
# (tcp_fin_timeout, tcp_timestamps and tcp_max_tw_buckets are per namespace; the host's are
# never touched), TIME-WAIT made on its loopback, and a temporary sysctl config directory.

load lib/doctor

setup() {
	TMP=$(mktemp -d)
	mkdir "$TMP/sysctl.d"
}

# bats's own EXIT trap runs this, pass or fail; a trap of our own would replace bats's and
# make a failing test vanish from the report
teardown() {
	rm -rf "$TMP"
}

sev() { # $1 json file, $2 finding id
	jq -r --arg id "$2" '.findings[] | select(.id == $id) | .severity' "$1"
}

@test "doctor myths: --sysctl-conf is in --help" {
	run "$TWKIT" doctor --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--sysctl-conf PATH"* ]]
	[[ "$output" == *"file:line"* ]]
}

@test "doctor myths: healthy twin, defaults and an empty config dir, no myth fires" {
	in_ns "'$CHURN' -p 8080 -n 100 >/dev/null; $WAIT_TW 100;
	       '$TWKIT' doctor --json --sysctl-conf '$TMP/sysctl.d' > '$TMP/d.json'"
	[ "$(jq .sockets.time_wait "$TMP/d.json")" -ge 100 ]
	[ -z "$(jq -r '.findings[] | select(.id | test("^myth-|^timestamps-off$")) | .id' "$TMP/d.json")" ]
	[ "$(jq '.not_read | map(select(test("sysctl"))) | length' "$TMP/d.json")" -eq 0 ]
}

@test "doctor myths: lowered fin_timeout and tw_buckets, timestamps off, a recycle line" {
	cat > "$TMP/sysctl.d/10-tune.conf" <<-'EOF'
		# "fix" TIME-WAIT, from a blog post
		net.ipv4.tcp_fin_timeout = 10
		net/ipv4/tcp_tw_recycle=1
	EOF
	cat > "$TMP/sysctl.d/20-hardening.conf" <<-'EOF'
		; hardening guide
		net.ipv4.tcp_timestamps = 0
		net.ipv4.tcp_max_tw_buckets = 20
	EOF
	echo 'net.ipv4.tcp_fin_timeout = 99' > "$TMP/sysctl.d/30-not-a-conf.txt"
	# 100 client-closed connections against a limit of 20: 80 overflow
	in_ns "sysctl -qw net.ipv4.tcp_fin_timeout=10 net.ipv4.tcp_timestamps=0 \
	                net.ipv4.tcp_max_tw_buckets=20 net.ipv4.tcp_tw_reuse=0 &&
	       '$CHURN' -p 8080 -n 100 >/dev/null && $WAIT_TW 20 &&
	       '$TWKIT' doctor --json --sysctl-conf '$TMP/sysctl.d' --record '$TMP/cap' \
	           > '$TMP/d.json'"
	d="$TMP/d.json"
	[ "$(sev "$d" myth-fin-timeout)" = info ]
	[ "$(sev "$d" myth-max-tw-buckets)" = warning ]
	[ "$(sev "$d" myth-recycle-config)" = warning ]
	[ "$(sev "$d" timestamps-off)" = warning ]
	[ -n "$(sev "$d" tw-bucket-overflow)" ] # the overflow itself, its severity its own rule's
	ev() { jq -r --arg id "$1" '.findings[] | select(.id == $id) | .evidence[]' "$d"; }
	ev myth-fin-timeout | grep -qF "set in $TMP/sysctl.d/10-tune.conf:2: net.ipv4.tcp_fin_timeout = 10"
	ev myth-fin-timeout | grep -qF 'net.ipv4.tcp_fin_timeout = 10 (default 60)'
	ev myth-recycle-config | grep -qF "set in $TMP/sysctl.d/10-tune.conf:3: net.ipv4.tcp_tw_recycle = 1"
	ev timestamps-off | grep -qF "set in $TMP/sysctl.d/20-hardening.conf:2: net.ipv4.tcp_timestamps = 0"
	ev timestamps-off | grep -qF 'net.ipv4.tcp_tw_reuse = 0'
	ev myth-max-tw-buckets | grep -qF "set in $TMP/sysctl.d/20-hardening.conf:3"
	ev myth-max-tw-buckets | grep -q '^TcpExt.TCPTimeWaitOverflow = [1-9]'
	# the file that is not *.conf is not read
	run grep -q 30-not-a-conf "$d"
	[ "$status" -ne 0 ]
	# what the finding says about sysctl -p is what this kernel's sysctl -p does
	run in_ns "sysctl -p '$TMP/sysctl.d/10-tune.conf'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot stat /proc/sys/net/ipv4/tcp_tw_recycle"* ]]
	# the capture carries the config lines: the same findings on replay, anywhere
	"$TWKIT" doctor --json --replay "$TMP/cap" > "$TMP/r.json"
	diff <(jq '.findings' "$d") <(jq '.findings' "$TMP/r.json")
}

@test "doctor myths: tcp_timestamps=0 without TIME-WAIT is info, and alone" {
	in_ns "sysctl -qw net.ipv4.tcp_timestamps=0 &&
	       '$TWKIT' doctor --json --sysctl-conf '$TMP/sysctl.d' > '$TMP/d.json'"
	[ "$(sev "$TMP/d.json" timestamps-off)" = info ]
	[ -z "$(sev "$TMP/d.json" myth-max-tw-buckets)" ]
	[ -z "$(sev "$TMP/d.json" myth-recycle-config)" ]
	[ -z "$(sev "$TMP/d.json" myth-fin-timeout)" ]
}

@test "doctor myths: a missing --sysctl-conf path is named in not_read, the run goes on" {
	run in_ns "'$TWKIT' doctor --json --sysctl-conf '$TMP/nope' --sysctl-conf '$TMP/sysctl.d'"
	[ "$status" -eq 0 ]
	jq -r '.not_read[]' <<<"$output" | grep -qF "$TMP/nope: No such file or directory"
}
