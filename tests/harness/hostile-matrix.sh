# SPDX-License-Identifier: MIT
# tests/harness/hostile-matrix.sh — hostile matrix files (issue 11, items 5, 6, 7, 12):
# each is refused with one line naming FILE[:LINE] and what is accepted, exit 2, quickly
# and in bounded memory, with the output not created:
#  - nested 300,000 levels deep (took > 60 s at 10^5: libyaml's scanner is quadratic in
#    depth), 12 levels of block mappings, or larger than 1 MiB;
#  - /dev/zero and a FIFO (grew to GBs / blocked): not regular files;
#  - an empty file or {} (ran the whole default matrix);
#  - a duplicate key under params: or timeouts: (last won);
#  - a bad scalar that a flag overrides (scale: abc, .nan, repeat: 0x10 were ignored);
# and a name holding a newline or an escape byte is shown escaped, in messages and in
# --dry-run, never raw.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1

# refused FILE PATTERN [FLAGS...]: one line matching PATTERN, exit 2, within 10 s and
# 1 GiB, no output created.
refused() {
  local f=$1 pat=$2 st
  shift 2
  (ulimit -v 1048576; timeout 10 "$GCLAB" run --matrix "$f" --out never.csv "$@") >o 2>e
  st=$?
  [ $st -eq 2 ] || fail "$f: exit $st, expected 2 (124: timed out) ($(head -c 300 e))"
  [ "$(wc -l <e)" -eq 1 ] || fail "$f: not one line: $(head -c 300 e)"
  grep -q -- "$pat" e || fail "$f: message '$(cat e)' does not match '$pat'"
  [ -e never.csv ] && fail "$f: the output was created"
  return 0
}
python3 -c "print('collectors: ' + '[' * 300000 + ']' * 300000)" >deep.yaml
refused deep.yaml "deep.yaml:1: nested more than 8 levels deep"
python3 -c "print('params:\n' + ''.join(' ' * i + 'k%d:\n' % i for i in range(1, 12)))" >deep2.yaml
refused deep2.yaml "deep2.yaml:[0-9]*: nested more than 8 levels deep"
refused /dev/zero "cannot read matrix file '/dev/zero': it is a character device, not a regular file"
mkfifo fifo.yaml
refused fifo.yaml "cannot read matrix file 'fifo.yaml': it is a FIFO, not a regular file"
head -c 2000000 /dev/zero | tr '\0' '#' >big.yaml
refused big.yaml "cannot read matrix file 'big.yaml': 2000000 bytes, more than the 1048576"
: >empty.yaml
refused empty.yaml "empty.yaml:1: the matrix file is empty (no keys)"
echo '{}' >braces.yaml
refused braces.yaml "braces.yaml:1: the matrix file is empty (no keys)"
printf '# only a comment\n' >comment.yaml
refused comment.yaml "comment.yaml:1: the matrix file is empty"
printf 'workloads: [binary-trees]\nparams:\n  binary-trees: {depth: 4, depth: 5}\n' >d1.yaml
refused d1.yaml "d1.yaml:3: key 'depth' under 'binary-trees' is given twice (first on line 3)"
printf 'workloads: [binary-trees]\nparams:\n  binary-trees: {depth: 4}\n  binary-trees: {depth: 5}\n' >d2.yaml
refused d2.yaml "d2.yaml:4: key 'binary-trees' under 'params' is given twice (first on line 3)"
printf 'workloads: [binary-trees]\ntimeouts:\n  binary-trees: 4\n  binary-trees: 5\n' >d3.yaml
refused d3.yaml "d3.yaml:4: key 'binary-trees' under 'timeouts' is given twice (first on line 3)"
printf 'collectors: &c [rc]\nallocators: *c\n' >alias.yaml
refused alias.yaml "alias.yaml:1: YAML anchors and aliases"
printf 'collectors: [rc]\nscale: abc\n' >s1.yaml
refused s1.yaml "s1.yaml:2: bad value 'abc' for --scale" --scale 0.1
printf 'collectors: [rc]\nscale: .nan\n' >s2.yaml
refused s2.yaml "s2.yaml:2: bad value '.nan' for --scale" --scale 0.1
printf 'collectors: [rc]\nrepeat: 0x10\n' >s3.yaml
refused s3.yaml "s3.yaml:2: bad value '0x10' for --repeat" --repeat 2

# Names with control bytes are escaped (\xNN), in messages and in --dry-run.
printf 'collectors: [rc]\nallocators: ["s\\x1b[31m\\ny"]\n' >esc.yaml
refused esc.yaml 'esc.yaml:2: unknown allocator .s\\x1B\[31m\\x0Ay.'
grep -q "$(printf '\033')" e && fail "an escape byte reached the terminal: $(cat e)"
"$GCLAB" run --collector "$(printf 'a\nb')" --out never.csv >o 2>e
[ $? -eq 2 ] && [ "$(wc -l <e)" -eq 1 ] && grep -qF "unknown collector 'a\\x0Ab'" e ||
  fail "a collector with a newline: $(cat e)"
printf 'name: "two\\nlines\\x1b[31m"\ncollectors: [rc]\nallocators: [sys]\nworkloads: [churn]\nrepeat: 1\n' >n.yaml
"$GCLAB" run --matrix n.yaml --dry-run >o 2>e || fail "dry-run of n.yaml: exit $? ($(cat e))"
head -1 o | grep -qF 'matrix two\x0Alines\x1B[31m: 1 cells' || fail "dry-run name not escaped: $(head -2 o)"
grep -q "$(printf '\033')" o && fail "an escape byte in the --dry-run listing"
"$GCLAB" run --collector rc --allocator sys --workload churn --repeat 1 --dry-run --resume \
  --out "$(printf 'x\033[2Jy.csv')" >o 2>e || fail "dry-run with an escape byte in --out: exit $? ($(cat e))"
grep -qF 'already in x\x1B[2Jy.csv' o || fail "--out not escaped in --dry-run: $(head -1 o)"
grep -q "$(printf '\033')" o e && fail "an escape byte of --out reached the terminal"
echo ok
