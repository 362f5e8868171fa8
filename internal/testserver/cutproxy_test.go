package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// startPayloadServer serves payload to every connection and then echoes
// whatever the client sends, so both directions through a proxy are seen.
func startPayloadServer(t *testing.T, payload []byte) string {
	t.Helper()
	return ServeTCP(t, func(c net.Conn) {
		if _, err := c.Write(payload); err != nil {
			return
		}
		io.Copy(c, c)
	})
}

// readThroughProxy connects to addr, reads up to len(payload) bytes and
// reports how many arrived before the connection ended.
func readThroughProxy(t *testing.T, addr string, n int) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadFull(c, make([]byte, n))
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatalf("read through proxy: %v", err)
	}
	return got
}

func TestCutProxy(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	target := startPayloadServer(t, payload)

	tests := []struct {
		name       string
		afterBytes int64
		cutConns   int
		want       []int // bytes received by successive connections
		wantCuts   int
	}{
		{"first two cut, then pass through", 1000, 2, []int{1000, 1000, len(payload), len(payload)}, 2},
		{"every connection cut", 1, -1, []int{1, 1, 1}, 3},
		{"none cut", 1000, 0, []int{len(payload), len(payload)}, 0},
		{"cut at zero bytes", 0, 1, []int{0, len(payload)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := StartCutProxy(t, target, tt.afterBytes, tt.cutConns)
			for i, want := range tt.want {
				if got := readThroughProxy(t, p.Addr, len(payload)); got != want {
					t.Errorf("connection %d received %d bytes, want %d", i+1, got, want)
				}
			}
			if p.Conns() != len(tt.want) {
				t.Errorf("Conns() = %d, want %d", p.Conns(), len(tt.want))
			}
			if p.Cuts() != tt.wantCuts {
				t.Errorf("Cuts() = %d, want %d", p.Cuts(), tt.wantCuts)
			}
		})
	}

	t.Run("passes client data through", func(t *testing.T) {
		p := StartCutProxy(t, target, 0, 0)
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, len(payload))); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		echo := make([]byte, 4)
		if _, err := io.ReadFull(c, echo); err != nil || string(echo) != "ping" {
			t.Errorf("echo = %q, %v; want ping", echo, err)
		}
	})
}

func TestCutProxyMidFetch(t *testing.T) {
	m := StartMemoryIMAP(t, alice)
	big := crlfMessage + strings.Repeat("A line of filler text to make the literal long.\r\n", 4000)
	uids := m.Append(t, alice.Name, "INBOX", Message{Body: []byte(big)})

	// Greeting, login and select take well under 4000 bytes; the message is
	// about 200 kB, so the cut lands inside the FETCH literal.
	p := StartCutProxy(t, m.Addr, 4000, 1)
	// fetch streams the body and checks its length itself, as a client of
	// go-imap beta.8 must: when the connection dies inside a literal, the
	// literal reader reports a plain io.EOF, so io.ReadAll (and Collect)
	// return a truncated body without error. Reading on after that
	// (msg.Next, cmd.Close or Collect discarding the rest) races with the
	// client's reader goroutine, so the command is abandoned instead and
	// the client closed.
	fetch := func() error {
		c, err := loginIMAP(p.Addr, alice.Name, alice.Password)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return err
		}
		cmd := c.Fetch(imap.UIDSetNum(uids[0]), &imap.FetchOptions{
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		})
		msg := cmd.Next()
		if msg == nil {
			if err := cmd.Close(); err != nil {
				return err
			}
			return errors.New("FETCH returned no message")
		}
		for item := msg.Next(); item != nil; item = msg.Next() {
			section, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok {
				continue
			}
			body, err := io.ReadAll(section.Literal)
			if err != nil {
				return fmt.Errorf("read body literal: %w", err)
			}
			if int64(len(body)) != section.Literal.Size() {
				return fmt.Errorf("body literal truncated at %d of %d bytes", len(body), section.Literal.Size())
			}
			if !bytes.Equal(body, []byte(big)) {
				t.Errorf("fetched body differs from the appended one")
			}
		}
		return cmd.Close()
	}
	err := fetch()
	if err == nil {
		t.Fatal("FETCH through a cut connection succeeded")
	}
	t.Logf("cut FETCH: %v", err)
	if p.Cuts() != 1 {
		t.Errorf("Cuts() = %d, want 1", p.Cuts())
	}
	if err := fetch(); err != nil {
		t.Fatalf("FETCH after the cut connections: %v", err)
	}

	// Arm re-arms the proxy for later connections.
	p.Arm(100, 1)
	if _, err := loginIMAP(p.Addr, alice.Name, alice.Password); err == nil {
		t.Error("login through a connection cut after 100 bytes succeeded")
	}
	if p.Conns() != 3 || p.Cuts() != 2 {
		t.Errorf("Conns(), Cuts() = %d, %d; want 3, 2", p.Conns(), p.Cuts())
	}
}
