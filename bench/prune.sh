#!/usr/bin/env bash
# Forget and prune figures: a Maildir of MESSAGES is backed up, half its messages (every other
# one) are deleted, it is backed up again, and the first backup is forgotten and its data pruned.
# mailferry (archive forget --keep-last 1 --prune) beside restic (forget --keep-last 1 --prune)
# on the same Maildir, each timed whole with /usr/bin/time -v; sizes before and after.
# Usage: bench/prune.sh [MESSAGES]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/mailferry" ./cmd/mailferry
go run ./bench/corpusgen -n "$n" -out "$work/corpus"
mf="$work/mailferry"

"$mf" export --from "maildir:$work/corpus" --archive "$work/archive" --account bench >/dev/null
have_restic=false
if command -v restic >/dev/null; then
  have_restic=true
  export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$work/restic"
  restic init -q
  restic backup -q "$work/corpus" >/dev/null
fi
find "$work/corpus" -type f -path '*/cur/*' | sort | awk 'NR % 2 == 0' | xargs rm -f
"$mf" export --from "maildir:$work/corpus" --archive "$work/archive" --account bench >/dev/null
$have_restic && restic backup -q "$work/corpus" >/dev/null

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" > "$work/out.txt" 2> "$work/time.txt"
  local wall rss
  wall=$(grep 'Elapsed (wall' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}')
  printf '%-34s wall %8s  peak RSS %7d KiB\n' "$name" "$wall" "$rss"
}
before=$(du -sb "$work/archive" | cut -f1)
measure "mailferry forget --prune" "$mf" archive forget "$work/archive" --keep-last 1 --prune
after=$(du -sb "$work/archive" | cut -f1)
echo "mailferry archive: $before bytes before, $after after"
tail -2 "$work/out.txt"
"$mf" archive verify "$work/archive" | tail -1
if $have_restic; then
  before=$(du -sb "$work/restic" | cut -f1)
  measure "restic forget --prune" restic forget --keep-last 1 --prune
  after=$(du -sb "$work/restic" | cut -f1)
  echo "restic repository: $before bytes before, $after after"
fi
