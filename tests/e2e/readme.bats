#!/usr/bin/env bats
# README's examples run as printed (issue 21 §1). The lines of the ```sh block under
# "## Examples" are run one by one with bash, in order, in one scratch directory (they share
# files: a.twcap, my.ini), with `twkit` on the PATH being the binary under test:
#   - each must end with the exit status its comment documents ("exit N"), 0 otherwise;
#   - a line whose comment says "until Ctrl-C" gets SIGINT after 3 s and must end cleanly;
#   - lines that run bench (they make load and TIME-WAIT) run in a private network namespace
#     with loopback up; lab lines run as printed (root: the lab makes its own namespaces), and
#     again when another lab run held the lab's lock (up to 5 min).
# So the README cannot rot: an example that stops working fails here, naming the line.

setup_file() {
	export README_DIR=$BATS_FILE_TMPDIR/run
	mkdir -p "$README_DIR" "$BATS_FILE_TMPDIR/bin"
	ln -sf "$TWKIT" "$BATS_FILE_TMPDIR/bin/twkit"
	awk '/^## Examples/ { ex = 1; next }
	     ex && /^```sh/ { inb = 1; next }
	     inb && /^```/ { exit }
	     inb && NF { print }' "$TWKIT_TOP/README.md" > "$BATS_FILE_TMPDIR/examples"
}

# Run every example line whose verb (the word after the first "twkit") is $1.
run_examples() {
	local verb=$1 line want code n=0 fails=0 cmd
	while IFS= read -r line; do
		[[ "$line" =~ ^twkit\ ([a-z]+) ]] || { echo "not a twkit line: $line"; return 1; }
		[ "${BASH_REMATCH[1]}" = "$verb" ] || continue
		n=$((n + 1))
		want=0
		[[ "$line" =~ \#.*exit\ ([0-9]+) ]] && want=${BASH_REMATCH[1]}
		cmd=(bash -c "$line")
		[[ "$line" == *"until Ctrl-C"* ]] && cmd=(timeout -s INT -k 5 --preserve-status 3 "${cmd[@]}")
		if [[ "$line" == *"twkit bench"* ]]; then
			cmd=(unshare -n bash -c 'ip link set lo up && exec "$@"' bash "${cmd[@]}")
		fi
		# another lab run on this machine holds the lab's lock: run the line again once it
		# is free (bounded: 5 min), as a user would
		for try in $(seq 60); do
			code=0
			(cd "$README_DIR" && PATH="$BATS_FILE_TMPDIR/bin:$PATH" timeout -k 5 180 "${cmd[@]}") \
				> "$BATS_FILE_TMPDIR/out" 2>&1 < /dev/null || code=$?
			grep -q 'another twkit lab run is active' "$BATS_FILE_TMPDIR/out" || break
			echo "# lab busy (try $try), again in 5 s: $line" >&3
			sleep 5
		done
		echo "# exit $code (want $want): $line" >&3
		if [ "$code" != "$want" ]; then
			echo "FAILED (exit $code, want $want): $line"
			tail -15 "$BATS_FILE_TMPDIR/out"
			fails=$((fails + 1))
		fi
	done < "$BATS_FILE_TMPDIR/examples"
	[ "$n" -gt 0 ] || { echo "no example line for twkit $verb"; return 1; }
	[ "$fails" -eq 0 ]
}

@test "readme: the examples are twkit lines, none uses sudo, each verb has some" {
	[ "$(wc -l < "$BATS_FILE_TMPDIR/examples")" -ge 20 ]
	! grep -n 'sudo' "$TWKIT_TOP/README.md"
	! grep -vn '^twkit ' "$BATS_FILE_TMPDIR/examples"
	for v in doctor bench sim lab trace; do grep -q "^twkit $v" "$BATS_FILE_TMPDIR/examples"; done
}

@test "readme: doctor examples run as printed" {
	[ "$(id -u)" = 0 ] || skip "README's examples are run as root"
	run_examples doctor
	[ -s "$README_DIR/a.twcap" ]
	[ -s "$README_DIR/b.twcap" ]
}

@test "readme: bench examples run as printed (private network namespace)" {
	[ "$(id -u)" = 0 ] || skip "README's examples are run as root"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace here"
	run_examples bench
	grep -q '<svg' "$README_DIR/m.svg"
	head -1 "$README_DIR/m.csv" | grep -q '^t,rate,failed'
}

@test "readme: sim examples run as printed" {
	run_examples sim
	[ -s "$README_DIR/my.ini" ]
}

@test "readme: lab examples run as printed (root)" {
	[ "$(id -u)" = 0 ] || skip "the lab needs root"
	[ -s "$README_DIR/my.ini" ] || skip "needs my.ini from the sim examples"
	run_examples lab
}

@test "readme: trace examples run as printed (root, eBPF)" {
	[ "$(id -u)" = 0 ] || skip "twkit trace needs root"
	run_examples trace
}
