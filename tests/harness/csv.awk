# SPDX-License-Identifier: MIT
# tests/harness/csv.awk — a small RFC 4180 reader for the harness tests (mawk and gawk).
# Quoted fields may hold commas, doubled quotes and newlines.
#   awk -v mode=check -f csv.awk FILE     prints the number of data rows; prints
#                                         "BAD row N: K fields, header has H" and exits 1
#                                         if any row's field count differs from the header's
#                                         or a quoted field is left open at end of file
#   awk -v mode=col -v name=C -f csv.awk FILE   prints column C of every data row, decoded
#   awk -v mode=row -v n=N -f csv.awk FILE      prints "name=value" for every field of row N
function parse(line,    i, c, f, inq, n, len) {
  n = 0; f = ""; inq = 0; len = length(line)
  for (i = 1; i <= len; i++) {
    c = substr(line, i, 1)
    if (inq) {
      if (c == "\"") {
        if (substr(line, i + 1, 1) == "\"") { f = f "\""; i++ } else inq = 0
      } else f = f c
    } else if (c == "\"") inq = 1
    else if (c == ",") { F[++n] = f; f = "" }
    else f = f c
  }
  if (inq) return -1
  F[++n] = f
  return n
}
{
  buf = pending ? buf "\n" $0 : $0
  nf = parse(buf)
  if (nf < 0) { pending = 1; next }
  pending = 0
  rec++
  if (rec == 1) {
    H = nf
    for (i = 1; i <= nf; i++) { NAME[i] = F[i]; IDX[F[i]] = i }
    if (mode == "col" && !(name in IDX)) { print "no column " name > "/dev/stderr"; exit 2 }
    next
  }
  row = rec - 1
  if (nf != H) { print "BAD row " row ": " nf " fields, header has " H; bad = 1 }
  if (mode == "col") print F[IDX[name]]
  if (mode == "row" && row == n) for (i = 1; i <= nf; i++) print NAME[i] "=" F[i]
}
END {
  if (pending) { print "BAD: a quoted field is still open at end of file"; exit 1 }
  if (mode == "check") print (rec > 0 ? rec - 1 : 0)
  if (bad) exit 1
}
