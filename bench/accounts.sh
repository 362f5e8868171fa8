#!/usr/bin/env bash
# Bulk throughput (issue "Bulk migrations"): MAILFERRY_BENCH_ACCOUNTS accounts (default 20) of MESSAGES
# messages (default 1000) exported from Dovecot users into fresh archives and imported into fresh
# Dovecot users, one process per account and then --accounts with --parallel 1, 2, 4, 8; total
# messages/s, MB/s and peak RSS of each.
# Usage: bench/accounts.sh [MESSAGES]   (needs dovecot-imapd)
set -euo pipefail
cd "$(dirname "$0")"
MAILFERRY_BENCH_MESSAGES=${1:-1000} go test -tags bench -run '^TestBulk(Import|Export)Speed$' -count=1 -timeout 60m -v . | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok'
