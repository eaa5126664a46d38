#!/usr/bin/env bats
# twkit sim refuses what it cannot run in bounded memory, before running (--max-memory, the
# estimate in --explain, checked against the resident peak measured), and scenario files
# that inih would misread: via cycles through any node kind, long section names, duplicate
# sections and keys, lines inih refuses. Pure computation: no sockets, no root.

setup() {
	tmp=$(mktemp -d)
	printf '[sim]\nduration=2s\n[client c]\nvia=s\n[server s]\n' >"$tmp/ok.ini"
}
teardown() {
	rm -rf "$tmp"
}

# Whether $TWKIT is built with AddressSanitizer (its resident memory is not the program's).
is_asan() {
	ldd "$TWKIT" 2>/dev/null | grep -q libasan
}

@test "sim: the issue's reproducer (60,000 hosts) is refused at once with the estimate" {
	# the default limit is a quarter of this machine's memory; the run needs about 16 GiB
	mem_kb=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)
	[ "$mem_kb" -lt $((60 * 1024 * 1024)) ] || skip "more than 60 GiB here: 16 GiB fits"
	SECONDS=0
	run timeout 20 "$TWKIT" sim -q "$tmp/ok.ini" --set c.count=60000
	[ "$status" -eq 2 ]
	[ "$SECONDS" -lt 5 ]
	[[ "$output" == *"ok.ini: the run would need about "*" GiB of memory (estimated before running), above --max-memory "*"(a quarter of this machine's memory)"* ]]
	[[ "$output" == *"60,001 TCP hosts"* ]]
	[[ "$output" == *"to fit: lower c.count"* ]]
	[[ "$output" == *"or raise --max-memory"* ]]
	# an explicit limit says so, without the default's note
	run timeout 20 "$TWKIT" sim -q "$tmp/ok.ini" --set c.count=60000 --max-memory 2GiB
	[ "$status" -eq 2 ]
	[[ "$output" == *"above --max-memory 2.0 GiB"$'\n'* ]]
	# a week at 10M/s closed by the server: TIME-WAIT is what to change
	run timeout 20 "$TWKIT" sim -q "$tmp/ok.ini" --set c.rate=10M/s --duration 7d \
		--set c.closes=server
	[ "$status" -eq 2 ]
	[[ "$output" == *"to fit: lower the rate behind c: its closes leave up to rate x 60 s"* ]]
	# the ordinary scenario still runs, and a limit of 0 is none
	run "$TWKIT" sim -q "$tmp/ok.ini"
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect(): 199 ok"* ]]
	run "$TWKIT" sim -q "$tmp/ok.ini" --max-memory 0 --json --no-series
	[ "$status" -eq 0 ]
	run "$TWKIT" sim stress-client --max-memory 1MiB
	[ "$status" -eq 2 ]
	[[ "$output" == *"builtin:stress-client: the run would need about"* ]]
	run "$TWKIT" sim stress-client --max-memory lots
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-memory 'lots': expected a size"* ]]
}

@test "sim: --explain says the estimate; it covers the measured peak, within 3x" {
	run "$TWKIT" sim stress-client --explain
	[ "$status" -eq 0 ]
	[[ "$output" == *"Memory: at most about "*" (estimated before the run: 2 TCP hosts, up to "*" open connections and 28,232 TIME-WAIT records), under --max-memory "* ]]
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	is_asan && skip "an ASan build: its memory is the sanitizer's"
	for s in stress-client tw-memory lb-quadruplets; do
		est=$("$TWKIT" sim "$s" --json --no-series --max-memory 1 2>&1 |
			sed -n 's/.*need about \([0-9.]*\) \([KMG]\)iB.*/\1 \2/p' |
			awk '{ m = $2 == "K" ? 1 : $2 == "M" ? 1024 : 1048576; printf "%d", $1 * m }')
		/usr/bin/time -f %M -o "$tmp/rss" "$TWKIT" sim "$s" --json --no-series -q >/dev/null
		rss=$(cat "$tmp/rss")
		echo "$s: estimate $est KiB, peak $rss KiB"
		[ "$est" -ge "$rss" ]
		[ "$est" -le $((3 * rss)) ]
	done
}

@test "sim: via cycles through any node kind are refused with file:line and the cycle" {
	printf '[client c]\nvia = l\n\n[l7lb l]\nvia = l\n[server s]\n' >"$tmp/l7.ini"
	run "$TWKIT" sim "$tmp/l7.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"l7.ini:4: [l] key 'via': the path loops: l -> l"* ]]
	printf '[client c]\nvia = a\n[l7lb a]\nvia = n\n[nat n]\nvia = a\n[server s]\n' >"$tmp/mix.ini"
	run "$TWKIT" sim "$tmp/mix.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"mix.ini:3: [a] key 'via': the path loops: a -> n -> a"* ]]
	# a cycle made on the command line too
	run "$TWKIT" sim lb-quadruplets --set balancer.via=balancer
	[ "$status" -eq 2 ]
	[[ "$output" == *"[balancer] key 'via': the path loops: balancer -> balancer"* ]]
}

@test "sim: long section names, duplicates and lines inih refuses name the right line" {
	printf '[server s]\n[client %s]\nvia = s\n' "$(printf 'x%.0s' {1..60})" >"$tmp/long.ini"
	run "$TWKIT" sim "$tmp/long.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"long.ini:2: section name 'xxxxxxxxxxxxxxxxxxxxxxxx...' is 60 characters long"* ]]
	printf '[sim]\nseed = 1\n[client c]\nvia = s\n[server s]\n[sim]\n' >"$tmp/dsim.ini"
	run "$TWKIT" sim "$tmp/dsim.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"dsim.ini:6: duplicate section [sim] (first at line 1)"* ]]
	printf '[client c]\nvia = s\nrate = 5\n[server s]\n[client c]\n' >"$tmp/dnode.ini"
	run "$TWKIT" sim "$tmp/dnode.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"dnode.ini:5: duplicate section name 'c' (first at line 1)"* ]]
	printf '[client c]\nvia = s\nrate = 5\nrate = 50\n[server s]\n' >"$tmp/dkey.ini"
	run "$TWKIT" sim "$tmp/dkey.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"dkey.ini:4: [client c] duplicate key 'rate' (first at line 3)"* ]]
	printf '[client c]\nrate ;= 5\nvia = s\n[server s]\nbogus = 1\n' >"$tmp/inl.ini"
	run "$TWKIT" sim "$tmp/inl.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"inl.ini:2: expected KEY = VALUE or [section] (a ';' after a blank starts a comment"* ]]
	printf '[client c]\nvia = s ; = x\n# y = z\nrat = 5\n[server s]\n' >"$tmp/num.ini"
	run "$TWKIT" sim "$tmp/num.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"num.ini:4: [client c] unknown key 'rat'"* ]]
}

@test "sim: count x ips and 1s-7d say the real limits" {
	run "$TWKIT" sim -q "$tmp/ok.ini" --set c.ips=2 --set c.count=60000
	[ "$status" -eq 2 ]
	[[ "$output" == *"key 'count': count x ips must be at most 60000, got count 60000 x ips 2 = 120000"* ]]
	printf '[client c]\ncount = 60000\nips = 2\nvia = s\n[server s]\n' >"$tmp/ips.ini"
	run "$TWKIT" sim "$tmp/ips.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"ips.ini:3: [client c] key 'ips': count x ips must be at most 60000"* ]]
	run "$TWKIT" sim stress-client --duration 7d --show
	[ "$status" -eq 0 ]
	printf '[sim]\nduration = 7d\n[client c]\nvia = s\n[server s]\n' >"$tmp/week.ini"
	run "$TWKIT" sim "$tmp/week.ini" --show
	[ "$status" -eq 0 ]
	run "$TWKIT" sim stress-client --duration 8d
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration '8d': expected a duration such as 90s, 1h30m or 7d, from 1s to 7d"* ]]
}
