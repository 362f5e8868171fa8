#!/usr/bin/env bash
# Archive figures for issue "Archive format v1": write throughput, `archive cat` latency, and the
# archive's size against `tar | zstd -3` and `zstd -19 --long=27` of the same Maildir.
# Usage: bench/archive.sh [MESSAGES]   (default 3000, about 110 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/mailferry" ./cmd/mailferry
go run ./bench/corpusgen -n "$n" -out "$work/corpus"
raw=$(find "$work/corpus" -type f -path '*/cur/*' -printf '%s\n' | awk '{s+=$1} END {print s}')

echo "== mailferry export (whole process, /usr/bin/time -v)"
/usr/bin/time -v "$work/mailferry" export --from "maildir:$work/corpus" --archive "$work/archive" 2> "$work/time.txt"
wall=$(grep 'Elapsed (wall' "$work/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}')
stored=$(du -sb --exclude=tmp "$work/archive" | cut -f1)
echo "export: wall $wall, peak RSS ${rss} KiB"

echo "== baselines"
z3=$(tar -cf - -C "$work" corpus | zstd -3 -q -c | wc -c)
z19=$(tar -cf - -C "$work" corpus | zstd -19 --long=27 -T0 -q -c | wc -c)
awk -v raw="$raw" -v a="$stored" -v z3="$z3" -v z19="$z19" 'BEGIN {
  printf "raw mail            %12d bytes\n", raw
  printf "mailferry archive   %12d bytes  ratio %.3f\n", a, raw/a
  printf "tar | zstd -3       %12d bytes  ratio %.3f\n", z3, raw/z3
  printf "tar | zstd -19 --long=27 %7d bytes  ratio %.3f\n", z19, raw/z19
}'

echo "== go test -bench (write MB/s of raw mail, cat ns/op for one random message)"
MAILFERRY_BENCH_CORPUS="$work/corpus" go test -run '^$' -bench 'Write|Cat' -benchtime 3x ./archive
