#!/usr/bin/env bats
# twkit doctor --record / --replay as files, pipes and FIFOs: a capture is created 0600 and
# renamed into place, an existing name (or a symlink planted there) is refused without
# --force and replaced, never written through, with it; `--record -` streams to stdout;
# `--replay -` reads stdin; a capture is bounded (2 GiB) and /dev/zero is refused at once;
# SIGINT/SIGTERM end a read blocked on a pipe or FIFO (exit 3, interrupted).

load lib/doctor

setup() {
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null || skip "needs root and unshare -n"
	TMP=$(mktemp -d)
	chmod 755 "$TMP"
}

teardown() {
	[ -n "${HOLD_FD:-}" ] && exec 4>&-
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
	true
}

# Wait (up to 5 s) until process $1 is twkit blocked in a read or open, not the shell about
# to exec it.
wait_blocked() {
	for _ in $(seq 50); do
		if [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == */twkit ]] &&
			[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = S ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Wait (up to 5 s) for process $1 to end; fails (and kills it) if it does not.
ends_soon() {
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	return 1
}

@test "doctor --record: mode 0600; an existing FILE is refused naming it, exit 3, untouched; --force replaces it" {
	in_ns "umask 0; '$TWKIT' doctor --record '$TMP/c' >/dev/null"
	[ "$(stat -c %a "$TMP/c")" = 600 ]
	[ "$(head -c 8 "$TMP/c")" = TWKITCAP ]
	# nothing but the capture: the temporary name is gone
	[ "$(ls -A "$TMP")" = c ]
	echo "keep me" > "$TMP/old"
	run in_ns "'$TWKIT' doctor --record '$TMP/old'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$TMP/old exists (--force replaces it)"* ]]
	[ "$(cat "$TMP/old")" = "keep me" ]
	[ "$(ls -A "$TMP" | sort | tr '\n' ' ')" = "c old " ]
	run in_ns "'$TWKIT' doctor --record '$TMP/old' --force"
	[ "$status" -eq 0 ]
	[ "$(head -c 8 "$TMP/old")" = TWKITCAP ]
	[ "$(stat -c %a "$TMP/old")" = 600 ]
	# --force alone, and --help says which exit code a refusal is
	run "$TWKIT" doctor --force
	[ "$status" -eq 2 ]
	[[ "$output" == *"--force goes with --record"* ]]
	run "$TWKIT" doctor --help
	[[ "$output" == *"--record FILE exists"* ]]
}

@test "doctor --record: a symlink planted by another user in a shared directory is never written through" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	shared="$TMP/shared"
	mkdir "$shared"
	chmod 1777 "$shared"
	echo "root's file" > "$TMP/victim"
	chmod 644 "$TMP/victim"
	setpriv --reuid=nobody --regid=nogroup --clear-groups ln -s "$TMP/victim" "$shared/cap"
	setpriv --reuid=nobody --regid=nogroup --clear-groups ln -s "$TMP/absent" "$shared/cap2"
	[ -L "$shared/cap" ]
	run in_ns "'$TWKIT' doctor --record '$shared/cap'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$shared/cap exists"* ]]
	run in_ns "'$TWKIT' doctor --record '$shared/cap2'"
	[ "$status" -eq 3 ]
	[ ! -e "$TMP/absent" ]
	[ "$(cat "$TMP/victim")" = "root's file" ]
	# --force replaces the link itself: the file it pointed at is unchanged
	run in_ns "'$TWKIT' doctor --record '$shared/cap' --force"
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/victim")" = "root's file" ]
	[ ! -L "$shared/cap" ]
	[ -f "$shared/cap" ]
	[ "$(stat -c '%a %U' "$shared/cap")" = "600 root" ]
	run "$TWKIT" doctor --replay "$shared/cap"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$shared" | sort | tr '\n' ' ')" = "cap cap2 " ]
}

@test "doctor --record -: the capture on stdout, the report on stderr; --replay - and --since - read stdin" {
	in_ns "'$CHURN' -p 8080 -n 60 >/dev/null; $WAIT_TW 60;
	       '$TWKIT' doctor --json --record - > '$TMP/cap' 2> '$TMP/live.json'"
	[ "$(head -c 8 "$TMP/cap")" = TWKITCAP ]
	jq -e . "$TMP/live.json" >/dev/null
	"$TWKIT" doctor --json --replay - < "$TMP/cap" > "$TMP/replay.json"
	diff <(jq 'del(.source)' "$TMP/live.json") <(jq 'del(.source)' "$TMP/replay.json")
	[ "$(jq -r .source "$TMP/replay.json")" = capture ]
	# the issue's pipeline: ssh prod twkit doctor --record - > prod.twcap, here through a pipe
	run in_ns "'$TWKIT' doctor --record - 2>/dev/null | '$TWKIT' doctor --replay -"
	[ "$status" -eq 0 ]
	[[ "$output" == *"from a capture"* ]]
	# the report goes to stderr, nothing but the capture to stdout
	run in_ns "'$TWKIT' doctor --record - 2>&1 >/dev/null"
	[[ "$output" == *"twkit doctor: kernel"* ]]
	# --since - : the earlier capture from stdin
	run "$TWKIT" doctor --replay "$TMP/cap" --since - < "$TMP/cap"
	[ "$status" -eq 0 ]
	# both cannot read stdin; --listen rereads its capture per scrape, so not stdin
	run "$TWKIT" doctor --replay - --since -
	[ "$status" -eq 2 ]
	run "$TWKIT" doctor --replay - --listen 127.0.0.1:9797
	[ "$status" -eq 2 ]
	# a stream cut short (an ssh that dropped) is refused as truncated
	run bash -c 'head -c 1000 "$1" | "$2" doctor --replay -' _ "$TMP/cap" "$TWKIT"
	[ "$status" -eq 3 ]
	[[ "$output" == *"stdin: truncated"* ]]
}

@test "doctor --replay: /dev/zero and a section past the 2 GiB bound end at once, in little memory" {
	if [ -x /usr/bin/time ]; then
		run /usr/bin/time -f 'rss_kb=%M' timeout 5 "$TWKIT" doctor --replay /dev/zero
		[ "$status" -eq 3 ]
		[[ "$output" == *"/dev/zero: not a twkit capture"* ]]
		rss=$(sed -n 's/^rss_kb=//p' <<<"$output")
		[ "$rss" -lt 65536 ]
	else
		run timeout 5 "$TWKIT" doctor --replay /dev/zero
		[ "$status" -eq 3 ]
	fi
	# a valid header, then a section announcing 2 GiB - 16 bytes, then endless zeros
	{ printf 'TWKITCAP\001\000\000\000\000\000\000\000'
	  printf '\001\000\000\000\000\000\000\000\360\377\377\177\000\000\000\000'; } > "$TMP/hdr"
	run timeout 5 bash -c 'cat "$1" /dev/zero | "$2" doctor --replay -' _ "$TMP/hdr" "$TWKIT"
	[ "$status" -eq 3 ]
	[[ "$output" == *"stdin: larger than 2.0 GiB, the most a capture holds"* ]]
	run timeout 5 bash -c 'cat "$1" /dev/zero | "$2" doctor --replay /dev/stdin' _ "$TMP/hdr" \
		"$TWKIT"
	[ "$status" -eq 3 ]
	[[ "$output" == *"larger than 2.0 GiB"* ]]
}

@test "doctor --replay: SIGTERM and SIGINT end a read blocked on a FIFO or pipe (exit 3, interrupted)" {
	in_ns "'$TWKIT' doctor --record '$TMP/cap' >/dev/null"
	mkfifo "$TMP/fifo"
	# no writer yet: twkit blocks in open()
	"$TWKIT" doctor --replay "$TMP/fifo" 2> "$TMP/err1" &
	p=$!
	wait_blocked "$p"
	kill -TERM "$p"
	ends_soon "$p"
	run wait "$p"
	[ "$status" -eq 3 ]
	grep -q "$TMP/fifo: interrupted" "$TMP/err1"
	# a writer that sends half a header and stays: twkit blocks in read()
	exec 4<> "$TMP/fifo"
	HOLD_FD=1
	printf 'TWKITCAP' >&4
	"$TWKIT" doctor --replay "$TMP/fifo" 2> "$TMP/err2" &
	p=$!
	wait_blocked "$p"
	kill -TERM "$p"
	ends_soon "$p"
	run wait "$p"
	[ "$status" -eq 3 ]
	grep -q "interrupted" "$TMP/err2"
	# stdin from the FIFO, SIGINT (as Ctrl-C)
	"$TWKIT" doctor --replay - < "$TMP/fifo" 2> "$TMP/err3" &
	p=$!
	wait_blocked "$p"
	kill -INT "$p"
	ends_soon "$p"
	run wait "$p"
	[ "$status" -eq 3 ]
	grep -q "stdin: interrupted" "$TMP/err3"
	# --since reads through the same reader
	"$TWKIT" doctor --replay "$TMP/cap" --since "$TMP/fifo" 2> "$TMP/err4" &
	p=$!
	wait_blocked "$p"
	kill -TERM "$p"
	ends_soon "$p"
	run wait "$p"
	[ "$status" -eq 3 ]
	grep -q -- "--since $TMP/fifo: interrupted" "$TMP/err4"
}
