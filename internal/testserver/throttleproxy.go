package testserver

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ThrottleProxy stands between an IMAP client and a server and answers the
// first few commands of one kind itself, as Office 365 does when a client
// goes too fast: "NO Request is throttled. Suggested Backoff Time: N
// milliseconds". Those commands never reach the server. It hides STARTTLS
// from the client, which then speaks plaintext on loopback, so that the
// proxy can read the commands.
type ThrottleProxy struct {
	Addr string

	mu      sync.Mutex
	command *regexp.Regexp
	left    int // commands still to answer
	answer  string
	extra   string // capabilities added after IMAP4rev1
}

// Advertise adds capabilities to those the server announces (after
// IMAP4rev1), for a server that offers more than it does unasked: with
// "IMAP4rev2" it stands in for a server of both revisions, which speaks
// IMAP4rev1 (modified UTF-7 names) until a client enables IMAP4rev2.
func (p *ThrottleProxy) Advertise(caps string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.extra = caps
}

// fromServer is what the client gets of a server response: no STARTTLS,
// and the capabilities Advertise adds in a CAPABILITY list (of the
// response's first line: what follows may be a message).
func (p *ThrottleProxy) fromServer(resp string) string {
	first, rest, _ := strings.Cut(resp, "\n")
	first = strings.Replace(first, " STARTTLS", "", 1)
	p.mu.Lock()
	extra := p.extra
	p.mu.Unlock()
	if extra != "" && strings.Contains(first, "CAPABILITY") {
		first = strings.Replace(first, "IMAP4rev1", "IMAP4rev1 "+extra, 1)
	}
	if rest == "" && !strings.HasSuffix(resp, "\n") {
		return first
	}
	return first + "\n" + rest
}

var literalAtEnd = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

// StartThrottleProxy answers the first n commands named command (APPEND,
// FETCH, SELECT...; with or without UID) with the throttled NO asking for
// backoffMS milliseconds. It stops with the test.
func StartThrottleProxy(t testing.TB, target, command string, n, backoffMS int) *ThrottleProxy {
	t.Helper()
	p := &ThrottleProxy{left: n,
		command: regexp.MustCompile(`(?i)^(\S+) (UID )?` + regexp.QuoteMeta(command) + ` `),
		answer:  "Request is throttled. Suggested Backoff Time: " + strconv.Itoa(backoffMS) + " milliseconds"}
	p.Addr = ServeTCP(t, func(c net.Conn) { p.serve(c, target) })
	return p
}

// Left is how many commands are still to be answered so.
func (p *ThrottleProxy) Left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.left
}

// readResponse reads one line and the literals it announces (and the
// lines after them), as one piece.
func readResponse(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		lit := literalAtEnd.FindStringSubmatch(line)
		if lit == nil {
			return b.String(), nil
		}
		n, _ := strconv.ParseInt(lit[1], 10, 64)
		if _, err := io.CopyN(&b, br, n); err != nil {
			return "", err
		}
	}
}

func (p *ThrottleProxy) serve(client net.Conn, target string) {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer server.Close()
	var wmu sync.Mutex // writes to the client: whole server responses, our answers
	toClient := func(s string) {
		wmu.Lock()
		defer wmu.Unlock()
		io.WriteString(client, s)
	}
	go func() {
		br := bufio.NewReader(server)
		for {
			// A response with its literals goes whole, so that an answer
			// of ours never lands inside a message body.
			resp, err := readResponse(br)
			if err != nil {
				client.Close()
				return
			}
			toClient(p.fromServer(resp))
		}
	}()
	br := bufio.NewReader(client)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		m := p.command.FindStringSubmatch(line)
		p.mu.Lock()
		swallow := m != nil && p.left > 0
		if swallow {
			p.left--
		}
		p.mu.Unlock()
		// A command passed on goes as it comes: a synchronizing literal
		// waits for the server's continuation, which must reach the
		// client. One swallowed is read to its end and answered here.
		var dst io.Writer = server
		if swallow {
			dst = io.Discard
		}
		for {
			io.WriteString(dst, line)
			lit := literalAtEnd.FindStringSubmatch(line)
			if lit == nil {
				break
			}
			if swallow && lit[2] == "" {
				toClient("+ go ahead\r\n")
			}
			n, _ := strconv.ParseInt(lit[1], 10, 64)
			if _, err := io.CopyN(dst, br, n); err != nil {
				return
			}
			if line, err = br.ReadString('\n'); err != nil {
				return
			}
		}
		if swallow {
			toClient(m[1] + " NO " + p.answer + "\r\n")
		}
	}
}
