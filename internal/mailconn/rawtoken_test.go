package mailconn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// rawConnOn is a RawConn reading server, writing nowhere.
func rawConnOn(server string) *RawConn {
	return &RawConn{br: bufio.NewReader(strings.NewReader(server)), bw: bufio.NewWriter(io.Discard), caps: imap.CapSet{}}
}

// TestRawConnRun reads LIST answers as a server may send them, names as
// quoted strings, atoms and literals, and refuses what would cost memory
// without bound or cannot be parsed, neither as a lost connection.
func TestRawConnRun(t *testing.T) {
	for _, tc := range []struct {
		name, server string
		want         []string // the names read
		limit        bool     // fails with ErrServerLimit
		fails        bool     // fails otherwise, not as a connection error
	}{
		{"quoted, atom, literal", "* LIST () \"/\" \"Bad&Jjo!\"\r\n* LIST (\\X) NIL INBOX\r\n* LIST () \"/\" {9}\r\nEntw\xc3\xbcrfe (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n* OK [x] y\r\nr1 OK done\r\n",
			[]string{"Bad&Jjo!", "INBOX", "Entw\xc3\xbcrfe"}, false, false},
		{"escapes", "* LIST () \"/\" \"a\\\"b\\\\c\"\r\nr1 OK done\r\n", []string{`a"b\c`}, false, false},
		{"huge literal name", fmt.Sprintf("* LIST () \"/\" {%d}\r\n", 2<<30), nil, true, false},
		{"endless line", "* LIST () \"/\" " + strings.Repeat("x ", maxLineLength/2+1), nil, true, false},
		{"line end in a quoted name", "* LIST () \"/\" \"a\r\nb\"\r\nr1 OK done\r\n", nil, false, true},
		{"NO", "r1 NO [NONEXISTENT] nope\r\n", nil, false, true},
		{"wrong tag", "r9 OK done\r\n", nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawConnOn(tc.server)
			var got []string
			err := c.Run(func() error {
				if tok, err := c.Next(); err != nil || tok.Text != "LIST" {
					return err
				}
				for range 2 { // attributes, delimiter
					tok, err := c.Next()
					if err != nil {
						return err
					}
					if tok.Kind == TokenOpen {
						c.skipList(t)
					}
				}
				tok, err := c.Next()
				if err != nil {
					return err
				}
				name := tok.Text
				if tok.Kind == TokenLiteral {
					name, err = c.LiteralText()
				}
				got = append(got, name)
				return err
			}, "LIST", Astring(""), Astring("*"))
			switch {
			case tc.limit != errors.Is(err, ErrServerLimit):
				t.Fatalf("error %v, want a limit: %v", err, tc.limit)
			case (tc.fails || tc.limit) != (err != nil):
				t.Fatalf("error %v", err)
			case err != nil && IsConnectionError(err):
				t.Fatalf("error %v is taken for a lost connection", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !tc.fails && !tc.limit {
				t.Errorf("names %q, want %q", got, tc.want)
			}
		})
	}
}

// skipList reads to the end of a list whose "(" was read.
func (c *RawConn) skipList(t *testing.T) {
	for {
		tok, err := c.Next()
		if err != nil || tok.Kind == TokenClose {
			return
		}
	}
}

// TestRawConnLiteralArg sends a name that cannot be quoted as a literal,
// after the server's continuation, byte for byte.
func TestRawConnLiteralArg(t *testing.T) {
	var sent bytes.Buffer
	c := rawConnOn("+ go on\r\nr1 OK done\r\n")
	c.bw = bufio.NewWriter(&sent)
	if err := c.Run(nil, "EXAMINE", Astring("Entw\xc3\xbcrfe")); err != nil {
		t.Fatal(err)
	}
	if want := "r1 EXAMINE {9}\r\nEntw\xc3\xbcrfe\r\n"; sent.String() != want {
		t.Errorf("sent %q, want %q", sent.String(), want)
	}
}
