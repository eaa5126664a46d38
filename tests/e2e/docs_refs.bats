#!/usr/bin/env bats
# Every § that twkit cites — in its source, its docs, README, and what it prints (sim
# --explain for every built-in, doctor's findings on the committed captures, every --help) —
# has a heading in docs/kernel.md ("## §N ..." or "### §N.M ..."), so a user can look it up.
# The set found is printed, and the test fails naming each § without a heading and where it
# was cited.

setup() {
	KMD="$TWKIT_TOP/docs/kernel.md"
	out=$BATS_TEST_TMPDIR/outputs
	mkdir -p "$out"
}

# "FILE:§N.M" lines for every citation in the files given
cites() {
	grep -oHE '§ ?[0-9]+(\.[0-9]+)*' "$@" 2>/dev/null | sed 's/§ /§/'
}

@test "docs refs: every § cited in src/, docs/, README and twkit's outputs has a heading in docs/kernel.md" {
	[ -f "$KMD" ]
	# what twkit prints: sim --explain of every built-in, doctor on captures, --help of every verb
	for s in $("$TWKIT" sim --list | awk 'NF { print $1 }'); do
		"$TWKIT" sim "$s" --explain --duration 10s > "$out/sim-$s.txt" 2>&1 || true
	done
	[ "$(ls "$out" | wc -l)" -ge 8 ]
	TEXT="$TWKIT_BUILD/tests/helpers/twcap_text"
	i=0
	for c in "$TWKIT_TOP"/tests/fuzz/corpus/capture/*.twcap; do
		i=$((i + 1))
		"$TWKIT" doctor --replay "$c" > "$out/doctor-$i.txt" 2>&1 || true
		"$TWKIT" doctor --replay "$c" --json > "$out/doctor-$i.json" 2>&1 || true
	done
	for t in "$TWKIT_TOP"/tests/data/*/*.twcap.txt; do
		[ -f "$t" ] || continue
		i=$((i + 1))
		"$TEXT" build "$t" "$out/cap-$i.twcap"
		"$TWKIT" doctor --replay "$out/cap-$i.twcap" > "$out/doctor-$i.txt" 2>&1 || true
	done
	for v in doctor bench sim lab; do
		"$TWKIT" "$v" --help > "$out/help-$v.txt" 2>&1 || true
	done
	# the citations, and the headings
	files=$(find "$TWKIT_TOP/src" "$TWKIT_TOP/docs" -type f \( -name '*.[ch]' -o -name '*.md' -o -name '*.1' \))
	# shellcheck disable=SC2086
	cites $files "$TWKIT_TOP/README.md" "$out"/* > "$BATS_TEST_TMPDIR/cites"
	[ -s "$BATS_TEST_TMPDIR/cites" ]
	grep -oE '^#+ §[0-9]+(\.[0-9]+)*' "$KMD" | sed 's/^#* //' | sort -u > "$BATS_TEST_TMPDIR/heads"
	found=$(sed 's/.*:§/§/' "$BATS_TEST_TMPDIR/cites" | sort -u -V | tr '\n' ' ')
	echo "# § cited ($(wc -l < "$BATS_TEST_TMPDIR/cites") citations): $found" >&3
	missing=0
	for s in $found; do
		if ! grep -qxF "$s" "$BATS_TEST_TMPDIR/heads"; then
			echo "no heading for $s in docs/kernel.md; cited at:"
			grep -F ":$s" "$BATS_TEST_TMPDIR/cites" | grep -E ":$s\$" | sed "s#^$TWKIT_TOP/##; s#^$out/#output #" | head -5
			missing=$((missing + 1))
		fi
	done
	[ "$missing" -eq 0 ]
	# twkit's outputs do cite sections (the check above is not vacuous for them)
	grep -qE '§[0-9]' "$out"/sim-*.txt
}

@test "docs refs: docs/kernel.md headings are unique and in order" {
	grep -oE '^#+ §[0-9]+(\.[0-9]+)*' "$KMD" | sed 's/^#* //' > "$BATS_TEST_TMPDIR/h"
	[ "$(sort -u "$BATS_TEST_TMPDIR/h" | wc -l)" -eq "$(wc -l < "$BATS_TEST_TMPDIR/h")" ]
	diff "$BATS_TEST_TMPDIR/h" <(sort -V "$BATS_TEST_TMPDIR/h")
}
