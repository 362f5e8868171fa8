#!/usr/bin/env bash
# Export speed against mbsync (issue "Export over IMAP"): one Dovecot account exported by
# `mailferry export` and by `mbsync` (Debian package isync) into a local store, in turn for 3 rounds (MAILFERRY_BENCH_ROUNDS),
# printing messages/s, MB/s and peak RSS (/usr/bin/time -v) for both.
# Usage: bench/imap-export.sh [MESSAGES]   (default 20000; needs dovecot-imapd and isync)
set -euo pipefail
cd "$(dirname "$0")"
MAILFERRY_BENCH_MESSAGES=${1:-20000} go test -tags bench -run '^TestCompareMbsync$' -count=1 -timeout 60m -v . | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok'
