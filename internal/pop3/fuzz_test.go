package pop3

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func FuzzDotReader(f *testing.F) {
	for _, tt := range unstuffCases {
		if len(tt.want) < 1000 {
			f.Add([]byte(tt.want), uint8(0))
		}
	}
	f.Add([]byte(".\r\n"), uint8(1))
	f.Add([]byte("a\r"), uint8(2))
	f.Add([]byte("\n.\r\n"), uint8(3))
	f.Fuzz(func(t *testing.T, msg []byte, split uint8) {
		// Stuffing then unstuffing gives the message back, plus the CRLF
		// a server has to add to a message not ending in one; and the
		// bytes after the terminator are left for the next answer.
		want := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
			want = append(bytes.Clone(msg), '\r', '\n')
		}
		got, rest, err := decode(append(dotStuff(msg), "+OK next"...), split)
		if err != nil {
			t.Fatalf("decoding the stuffed %q: %v", msg, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round trip of %q gave %q", msg, got)
		}
		if string(rest) != "+OK next" {
			t.Fatalf("round trip of %q left %q after the body", msg, rest)
		}

		// Any bytes at all: the same result as a plain line-by-line
		// decoder, io.ErrUnexpectedEOF where that finds no terminator,
		// and no panic.
		got, rest, err = decode(msg, split)
		wantBody, consumed, ok := unstuffLines(msg)
		switch {
		case !ok && err != io.ErrUnexpectedEOF:
			t.Fatalf("decoding %q without terminator: error %v, want io.ErrUnexpectedEOF", msg, err)
		case ok && err != nil:
			t.Fatalf("decoding %q: %v", msg, err)
		case ok && (!bytes.Equal(got, wantBody) || len(rest) != len(msg)-consumed):
			t.Fatalf("decoding %q gave %q and left %q; want %q and %q", msg, got, rest, wantBody, msg[consumed:])
		}
	})
}

// decode runs wire through a dotReader with reads cut into pieces chosen
// by split, and returns the body, what was left unread and the error.
func decode(wire []byte, split uint8) (body, rest []byte, err error) {
	var src io.Reader = bytes.NewReader(wire)
	if split&1 != 0 {
		src = iotest.OneByteReader(src)
	}
	size := 16 + int(split>>1)
	br := bufio.NewReaderSize(src, size)
	var out io.Reader = newDotReader(br)
	if split&2 != 0 {
		out = iotest.OneByteReader(out)
	}
	body, err = io.ReadAll(out)
	rest, _ = io.ReadAll(br)
	return body, rest, err
}

// unstuffLines is RFC 1939's rule done the obvious way, a whole CRLF line
// at a time: the reference the streaming dotReader must agree with. It
// returns the body, the bytes consumed and whether the terminator came.
func unstuffLines(wire []byte) (body []byte, consumed int, ok bool) {
	for i := 0; ; {
		j := bytes.Index(wire[i:], []byte("\r\n"))
		if j < 0 {
			return body, 0, false
		}
		line := wire[i : i+j+2]
		i += j + 2
		if string(line) == ".\r\n" {
			return body, i, true
		}
		if line[0] == '.' {
			line = line[1:]
		}
		body = append(body, line...)
	}
}
