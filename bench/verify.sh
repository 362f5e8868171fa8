#!/usr/bin/env bash
# Verify speed (issue "Import you can trust"): one synthetic Maildir imported into a Dovecot user,
# then `mailferry verify` (every message fetched and its SHA-256 compared with what was sent)
# timed beside a raw FETCH of the same account, in turn for 3 rounds (MAILFERRY_BENCH_ROUNDS).
# Usage: bench/verify.sh [MESSAGES]   (default 20000; needs dovecot-imapd)
set -euo pipefail
cd "$(dirname "$0")"
MAILFERRY_BENCH_MESSAGES=${1:-20000} go test -tags bench -run '^TestVerifySpeed$' -count=1 -timeout 60m -v . | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok'
