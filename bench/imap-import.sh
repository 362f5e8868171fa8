#!/usr/bin/env bash
# Import speed against mbsync (issue "Import into IMAP"): the same synthetic Maildir imported into
# fresh Dovecot users by `mailferry import` (from an archive of it) and by `mbsync` (Maildir ->
# IMAP), in turn for 3 rounds (MAILFERRY_BENCH_ROUNDS), printing messages/s, MB/s and peak RSS (/usr/bin/time -v) for both.
# Usage: bench/imap-import.sh [MESSAGES]   (default 20000; needs dovecot-imapd and isync)
set -euo pipefail
cd "$(dirname "$0")"
MAILFERRY_BENCH_MESSAGES=${1:-20000} go test -tags bench -run '^TestCompareMbsyncImport$' -count=1 -timeout 60m -v . | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok'
