package importer

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportAppendLimit imports into a server that announces APPENDLIMIT
// (RFC 7889, as Gmail does): messages over it are skipped before their
// bytes are sent, listed with the server's limit as the reason, and every
// other message lands.
func TestImportAppendLimit(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}},
		Capability: "IMAP4rev1 SASL-IR LITERAL+ MULTIAPPEND UIDPLUS NAMESPACE ESEARCH BINARY SPECIAL-USE APPENDLIMIT=3000"})
	var msgs []testserver.Message
	for i := range 6 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 1000+i*600)})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "m.jsonl"), nil)
	big := 0
	for _, m := range msgs {
		if len(m.Body) > 3000 {
			big++
		}
	}
	if big == 0 || len(rep.Skipped) != big || rep.Appended != len(msgs)-big || rep.SkippedByReason["append_limit"] != big {
		t.Fatalf("appended %d, skipped %v (%v); want %d skipped for the APPENDLIMIT", rep.Appended, rep.Skipped, rep.SkippedByReason, big)
	}
	if !strings.Contains(rep.Skipped[0].Reason, "over the server's APPENDLIMIT") {
		t.Errorf("reason %q", rep.Skipped[0].Reason)
	}
	if n := len(dst.Messages(t, "bob")); n != len(msgs)-big {
		t.Errorf("destination holds %d messages, want %d", n, len(msgs)-big)
	}
}
