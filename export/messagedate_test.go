package export

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mailferry/mailferry/format"
)

// The header is captured whatever the read sizes, up to its empty line,
// and the date comes from the newest Received, else Date, else now.
func TestHeaderCaptureAndPOP3Date(t *testing.T) {
	cases := []struct {
		name, msg, source string
		want              time.Time
	}{
		{"received first", "Received: from a by b; Tue, 3 Mar 2020 10:00:00 +0100 (CET)\r\nReceived: by c; Mon, 2 Mar 2020 09:00:00 +0000\r\nDate: Sun, 1 Mar 2020 08:00:00 +0000\r\n\r\nReceived: body; Fri, 1 Jan 2021 00:00:00 +0000\r\n",
			format.DateFromReceived, time.Date(2020, 3, 3, 9, 0, 0, 0, time.UTC)},
		{"date only, LF", "Subject: x\nDate: Sun, 1 Mar 2020 08:00:00 +0000\n\nbody\n", format.DateFromHeader, time.Date(2020, 3, 1, 8, 0, 0, 0, time.UTC)},
		{"neither", "Subject: x\r\n\r\nbody\r\n", format.DateFromExport, time.Time{}},
	}
	for _, c := range cases {
		for _, read := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader} {
			h := &headerCapture{r: read(strings.NewReader(c.msg))}
			if b, _ := io.ReadAll(h); string(b) != c.msg {
				t.Fatalf("%s: bytes changed", c.name)
			}
			if !strings.HasSuffix(string(h.header()), "\n\n") && !strings.HasSuffix(string(h.header()), "\r\n\r\n") {
				t.Errorf("%s: captured %q, not the header section", c.name, h.header())
			}
			got, src := messageDate(h.header())
			if src != c.source || (!c.want.IsZero() && !got.Equal(c.want)) {
				t.Errorf("%s: %v from %q, want %v from %q", c.name, got, src, c.want, c.source)
			}
		}
	}
}
