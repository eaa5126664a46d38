#!/usr/bin/env bats
# A capture is data from another machine, possibly hostile (issue 21 §6): its strings (here
# the kernel release, shown in the header and in a finding's evidence) reach the terminal with
# control characters and bytes outside UTF-8 escaped (\xNN), and the JSON report stays valid
# JSON with those bytes as \ufffd (C0/C1 controls as \u00NN). The escaping itself is unit
# tested in tests/unit/test_textesc.c.

setup() {
	TEXT="$TWKIT_BUILD/tests/helpers/twcap_text"
	d=$BATS_TEST_TMPDIR
	"$TEXT" dump "$TWKIT_TOP/tests/fuzz/corpus/capture/recycle-4.4-conf.twcap" > "$d/good.txt"
	# ESC ] (window title), BEL, ESC [ 2J (clear screen), CSI as a raw byte and as U+009B,
	# bytes that are not UTF-8, an encoded surrogate, and one honest e-acute
	bad=$'\e]0;pwned\a\e[2J\x9b31m\xc2\x9b\xff\xfe\xed\xa0\x80\xc3\xa9'
	sed -e "s/^|4\.4\.0-210-generic\$/|4.4.0-210-generic$bad/" "$d/good.txt" > "$d/bad.txt"
	grep -qa $'\e\\]0;pwned' "$d/bad.txt"
	"$TEXT" build "$d/bad.txt" "$d/bad.twcap"
}

@test "doctor hostile capture: the text report has no raw control byte and no invalid UTF-8" {
	"$TWKIT" doctor --replay "$d/bad.twcap" > "$d/out.txt"
	! grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' "$d/out.txt"
	iconv -f UTF-8 -t UTF-8 "$d/out.txt" > /dev/null
	! grep -qa $'\xc2\x9b' "$d/out.txt"
	grep -qaF 'kernel 4.4.0-210-generic\x1b]0;pwned\x07\x1b[2J\x9b31m\xc2\x9b\xff\xfe\xed\xa0\x80é (rules of 4.4)' "$d/out.txt"
	# the finding's evidence names the release too, escaped the same way
	grep -qaF 'on kernel 4.4.0-210-generic\x1b]0;pwned' "$d/out.txt"
	# the same capture with --since: the report through the same renderer
	"$TWKIT" doctor --replay "$d/bad.twcap" --since "$d/bad.twcap" > "$d/out2.txt"
	! grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' "$d/out2.txt"
}

@test "doctor hostile capture: JSON stays valid, invalid bytes become U+FFFD, controls \\u00NN" {
	"$TWKIT" doctor --replay "$d/bad.twcap" --json > "$d/out.json"
	iconv -f UTF-8 -t UTF-8 "$d/out.json" > /dev/null
	! grep -qaP '[\x00-\x09\x0b-\x1f\x7f]' "$d/out.json"
	run jq -r .kernel.release "$d/out.json"
	[ "$status" -eq 0 ]
	[ "$output" = $'4.4.0-210-generic\e]0;pwned\a\e[2J\ufffd31m\u009b\ufffd\ufffd\ufffd\ufffd\ufffd\u00e9' ]
	grep -qaF '"4.4.0-210-generic\u001b]0;pwned\u0007\u001b[2J\ufffd31m\u009b' "$d/out.json"
}
