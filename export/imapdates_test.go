package export

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// TestIMAPUnparsableInternalDate serves INTERNALDATEs go-imap cannot parse
// (a 31st of February, NIL): each such message is still exported, dated
// from its Date: header with date_source "date" and a warning; the others
// keep the server's date; nothing is retried as a lost connection (the
// export takes well under the ~40 s that retrying would), and an
// incremental run downloads nothing again.
func TestIMAPUnparsableInternalDate(t *testing.T) {
	good := `"05-Mar-2024 10:00:00 +0100"`
	goodTime := time.Date(2024, 3, 5, 10, 0, 0, 0, time.FixedZone("", 3600))
	header := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		dates []string
	}{
		{"31 February in the middle", []string{good, `"31-Feb-2024 10:00:00 +0000"`, good}},
		{"NIL first", []string{"NIL", good, good}},
		{"two bad, first and last", []string{`"31-Feb-2024 10:00:00 +0000"`, good, "NIL"}},
		{"all good", []string{good, good, good}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var msgs []fakeIMAPMessage
			for i, d := range tc.dates {
				msgs = append(msgs, fakeIMAPMessage{uid: 10 + i, date: d,
					body: fmt.Sprintf("Date: %s\r\nSubject: %d\r\n\r\nbody %d\r\n", header.Format(time.RFC1123Z), i, i)})
			}
			srv := startFakeIMAPServer(t, msgs)
			a, _ := archive.OpenOrCreate(t.TempDir())
			for run := range 2 {
				start := time.Now()
				rep, err := Run(context.Background(), a, srv.source(t), Options{Account: "u@fake", Connections: 2})
				if err != nil || !rep.Complete() {
					t.Fatalf("run %d: %v %+v %+v", run, err, rep, rep.Failures)
				}
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("run %d took %v: bad dates were retried", run, took)
				}
				bad := 0
				for _, d := range tc.dates {
					if d != good {
						bad++
					}
				}
				warned := slices.DeleteFunc(slices.Clone(rep.Warnings), func(w string) bool { return !strings.Contains(w, "INTERNALDATE cannot be read") })
				if len(warned) != bad || rep.Messages != len(msgs) || rep.Downloaded != int64(len(msgs)*(1-run)) {
					t.Errorf("run %d: %d messages, %d downloaded, warnings %q", run, rep.Messages, rep.Downloaded, rep.Warnings)
				}
				var got []format.Message
				a.ReadSnapshot(rep.Snapshot, func(rec format.SnapshotRecord) error {
					if rec.Message != nil {
						got = append(got, *rec.Message)
					}
					return nil
				})
				for i, m := range got {
					want, wantSource := goodTime, format.DateFromServer
					if tc.dates[m.UID-10] != good {
						want, wantSource = header, format.DateFromHeader
					}
					if !m.InternalDate.Equal(want) || m.DateSource != wantSource {
						t.Errorf("run %d, message %d (uid %d): date %v from %q, want %v from %q", run, i, m.UID, m.InternalDate, m.DateSource, want, wantSource)
					}
				}
			}
			t.Logf("%d connections", srv.connections())
		})
	}
}
