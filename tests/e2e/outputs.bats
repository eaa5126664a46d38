#!/usr/bin/env bats
# Output options are never dropped and are checked before a run (issue 21 §4): every verb
# writes each --svg/--csv/--record it is given in every mode (bench --matrix included), and a
# bad output path (missing directory, a directory, a planted symlink) fails at once with exit 2
# naming the path, before any connection is made or any simulated second runs.

load lib/bench

setup() { tmp=$BATS_TEST_TMPDIR; }
teardown() { bench_ns_cleanup; }

@test "outputs: bench --matrix builtin --svg --csv writes both: each variant's series on one time axis" {
	bench_need_root
	run bench_in_ns net.ipv4.tcp_tw_reuse=0 "net.ipv4.ip_local_port_range=40000 40999" -- \
		"$TWKIT" bench --matrix builtin -d 1s -q --svg "$tmp/m.svg" --csv "$tmp/m.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"baseline"* ]]
	grep -q '<svg' "$tmp/m.svg"
	head -1 "$tmp/m.csv" | grep -q '^t,rate,failed,.*,variant$'
	# every variant (six or more on loopback v4), numbered 1..N in order, time never going back
	seen=$(awk -F, 'NR > 1 { print $NF }' "$tmp/m.csv" | uniq | tr '\n' ' ')
	n=$(echo "$seen" | wc -w)
	[ "$n" -ge 6 ]
	[ "$seen" = "$(seq -s ' ' 1 "$n") " ]
	awk -F, 'NR > 2 && $1 + 0 < prev { exit 1 } NR > 1 { prev = $1 + 0 }' "$tmp/m.csv"
	# the baseline's EADDRNOTAVAIL (1,000 ports, reuse off) are in the CSV as in the table
	[ "$(awk -F, 'NR > 1 && $NF == 1 { s += $7 } END { print (s > 0) }' "$tmp/m.csv")" = 1 ]
	# --csv - with --matrix: the CSV alone on stdout
	run bench_in_ns -- "$TWKIT" bench --matrix builtin -d 1s -q --csv -
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == t,rate,failed,* ]]
}

@test "outputs: a bad --svg/--csv path fails before the run, exit 2, naming the path" {
	mkdir "$tmp/d"
	ln -s "$tmp/victim" "$tmp/link.svg"
	for bad in /nonexistent-dir/x.svg "$tmp/d" "$tmp/link.svg" "$tmp/d/"; do
		for verb in "bench -d 30s" "bench --matrix builtin -d 30s" "bench run --target 127.0.0.1:1 -d 30s" \
			"sim stress-client --duration 1h"; do
			# shellcheck disable=SC2086
			run timeout 10 "$TWKIT" $verb --svg "$bad"
			[ "$status" -eq 2 ]
			[[ "$output" == *"--svg '$bad'"* ]]
		done
		for verb in "bench -d 30s" "bench --matrix builtin -d 30s"; do
			# shellcheck disable=SC2086
			run timeout 10 "$TWKIT" $verb --csv "$bad"
			[ "$status" -eq 2 ]
			[[ "$output" == *"--csv '$bad'"* ]]
		done
	done
	[ ! -e "$tmp/victim" ]
	run "$TWKIT" bench -d 30s --svg /nonexistent-dir/x.svg
	[[ "$output" == *"directory /nonexistent-dir: does not exist"* ]]
	run "$TWKIT" bench -d 30s --svg "$tmp/link.svg"
	[[ "$output" == *"symbolic link"* ]]
}

@test "outputs: lab and doctor check --svg/--csv/--record before doing anything" {
	[ "$(id -u)" = 0 ] || skip "lab needs root"
	run timeout 10 "$TWKIT" lab stress-client --svg /nonexistent-dir/x.svg
	[ "$status" -eq 2 ]
	[[ "$output" == *"--svg '/nonexistent-dir/x.svg'"* ]]
	run timeout 10 "$TWKIT" lab stress-client --csv "$BATS_TEST_TMPDIR"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--csv '$BATS_TEST_TMPDIR'"* ]]
	run timeout 10 "$TWKIT" doctor --record /nonexistent-dir/x.twcap
	[ "$status" -eq 2 ]
	[[ "$output" == *"--record '/nonexistent-dir/x.twcap'"* ]]
	run timeout 10 "$TWKIT" doctor --prom --output /nonexistent-dir/x.prom
	[ "$status" -eq 2 ]
	[[ "$output" == *"--output '/nonexistent-dir/x.prom'"* ]]
	run timeout 10 "$TWKIT" doctor --all-netns --output "$BATS_TEST_TMPDIR"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is a directory"* ]]
	[ ! -e /nonexistent-dir ]
}

@test "outputs: a symlink planted at an --svg path is never written through" {
	bench_need_root
	echo keep > "$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/p.svg"
	run "$TWKIT" sim stress-client --duration 10s -q --svg "$BATS_TEST_TMPDIR/p.svg"
	[ "$status" -eq 2 ]
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = keep ]
	# planted between the check and the write: the open refuses it (O_NOFOLLOW), exit 3
	run bench_in_ns -- bash -c '
		rm -f "$1/q.svg"
		"$0" bench -d 2s -q --svg "$1/q.svg" & p=$!
		sleep 0.5; ln -s "$1/victim" "$1/q.svg"; wait $p' "$TWKIT" "$BATS_TEST_TMPDIR"
	[ "$status" -eq 3 ]
	[[ "$output" == *"--svg"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = keep ]
}

@test "outputs: sim --json --no-series --svg still plots the host's series" {
	run "$TWKIT" sim stress-client --duration 20s --json --no-series -q --svg "$BATS_TEST_TMPDIR/s.svg"
	[ "$status" -eq 0 ]
	"$TWKIT" sim stress-client --duration 20s -q --svg "$BATS_TEST_TMPDIR/plain.svg" >/dev/null
	grep -qi 'time.wait' "$BATS_TEST_TMPDIR/s.svg"
	cmp "$BATS_TEST_TMPDIR/s.svg" "$BATS_TEST_TMPDIR/plain.svg"
}

@test "outputs: two outputs on stdout, or outputs of a mode that runs nothing, are refused (exit 2)" {
	run "$TWKIT" bench -d 30s --json --csv -
	[ "$status" -eq 2 ]
	[[ "$output" == *"write stdout"* ]]
	run "$TWKIT" bench -d 30s --csv - --svg -
	[ "$status" -eq 2 ]
	run "$TWKIT" sim stress-client --show --svg "$BATS_TEST_TMPDIR/x.svg"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--show prints the scenario and runs nothing"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/x.svg" ]
	run "$TWKIT" sim stress-client --show --json
	[ "$status" -eq 2 ]
}
