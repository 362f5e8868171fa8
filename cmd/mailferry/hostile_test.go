package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
)

// hostileMode is how the fake server of these tests misbehaves.
type hostileMode int

const (
	behaves          hostileMode = iota // serves one message of bodySize bytes
	silentAfterLogin                    // answers nothing after LOGIN
	silentMidLiteral                    // stops inside the message's literal
	endlessUntagged                     // answers LIST with untagged responses forever
	silentAtAppend                      // answers nothing from the first APPEND on
	endlessMeta                         // answers the FETCH of metadata with new messages forever
)

const hostileBodySize = 100_000

// startHostileServer serves an account with one folder and one message,
// misbehaving as mode says; it returns the address.
func startHostileServer(t *testing.T, mode hostileMode) string {
	t.Helper()
	return testserver.ServeTCP(t, func(c net.Conn) { serveHostile(c, mode) })
}

func serveHostile(c net.Conn, mode hostileMode) {
	defer c.Close()
	w := bufio.NewWriter(c)
	say := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	hangOn := func() { io.Copy(io.Discard, c) }
	say("* OK fake IMAP ready")
	r := bufio.NewReader(c)
	loggedIn := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb, args, _ := strings.Cut(strings.ToUpper(cmd), " ")
		if verb == "UID" {
			verb, args, _ = strings.Cut(args, " ")
		}
		if loggedIn && mode == silentAfterLogin {
			hangOn()
			return
		}
		switch verb {
		case "CAPABILITY":
			say("* CAPABILITY IMAP4rev1", tag+" OK done")
		case "LOGIN":
			loggedIn = true
			say(tag + " OK logged in")
		case "LIST", "LSUB":
			if mode == endlessUntagged {
				chunk := strings.Repeat("* OK still here\r\n", 4096)
				for {
					if _, err := io.WriteString(c, chunk); err != nil {
						return
					}
				}
			}
			say(`* `+verb+` () "/" INBOX`, tag+" OK done")
		case "SELECT", "EXAMINE":
			say("* 1 EXISTS", "* FLAGS (\\Seen)", "* OK [UIDVALIDITY 7] ok", "* OK [UIDNEXT 2] ok", tag+" OK [READ-ONLY] done")
		case "FETCH":
			if mode == endlessMeta {
				var b strings.Builder
				for uid := 1; ; uid++ {
					fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE \"01-Jan-2024 00:00:00 +0000\" RFC822.SIZE 100)\r\n", uid, uid)
					if b.Len() > 64<<10 {
						if _, err := io.WriteString(c, b.String()); err != nil {
							return
						}
						b.Reset()
					}
				}
			}
			if !strings.Contains(args, "BODY") {
				say(fmt.Sprintf(`* 1 FETCH (UID 1 FLAGS (\Seen) INTERNALDATE "01-Jan-2024 00:00:00 +0000" RFC822.SIZE %d)`, hostileBodySize), tag+" OK done")
				continue
			}
			body := "Subject: hi\r\n\r\n" + strings.Repeat("x", hostileBodySize-15)
			if mode == silentMidLiteral {
				say(fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}", hostileBodySize))
				io.WriteString(c, body[:1000])
				hangOn()
				return
			}
			say(fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}", hostileBodySize))
			io.WriteString(c, body)
			say(")", tag+" OK done")
		case "APPEND":
			if mode == silentAtAppend {
				hangOn()
				return
			}
			say(tag + " NO not here")
		case "LOGOUT":
			say("* BYE bye", tag+" OK done")
			return
		default:
			say(tag + " OK done")
		}
	}
}

// peakRSS is the peak resident set of a process that has ended.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}

// startEndlessPOP3 is a POP3 server whose UIDL and LIST listings never end,
// or, if silent, that answers nothing after PASS.
func startEndlessPOP3(t *testing.T, silent bool) string {
	t.Helper()
	return testserver.ServeTCP(t, func(c net.Conn) {
		io.WriteString(c, "+OK fake POP3 ready\r\n")
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
			switch {
			case silent && verb != "CAPA" && verb != "USER" && verb != "PASS":
				io.Copy(io.Discard, c)
				return
			case verb == "CAPA":
				io.WriteString(c, "+OK\r\nUSER\r\nUIDL\r\n.\r\n")
			case verb == "UIDL", verb == "LIST":
				io.WriteString(c, "+OK\r\n")
				chunk := strings.Repeat("1 0123456789abcdef\r\n", 4096)
				for {
					if _, err := io.WriteString(c, chunk); err != nil {
						return
					}
				}
			default:
				io.WriteString(c, "+OK\r\n")
			}
		}
	})
}

// TestHostileServerCommands runs export and import against servers that
// go silent or talk without end: Ctrl-C (SIGINT) ends the command within
// 2 s with status 130, under 200 MB of memory; without it, the silence
// ends the command after --timeout, and says so; a port where nothing
// listens or another protocol answers fails at once, naming the problem.
func TestHostileServerCommands(t *testing.T) {
	// An archive to import, exported from a server that behaves.
	good := startHostileServer(t, behaves)
	archiveDir := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "imap://alice@"+good, "--archive", archiveDir, "--password-file", writeSecret(t, "pw"))

	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()
	pop3 := listenGreeter(t, "+OK POP3 ready")
	imap := listenGreeter(t, "* OK IMAP ready")

	export := func(addr string, more ...string) []string {
		return append([]string{"export", "--from", "imap://alice@" + addr, "--archive", filepath.Join(t.TempDir(), "a")}, more...)
	}
	importTo := func(addr string, more ...string) []string {
		return append([]string{"import", "--archive", archiveDir, "--to", "imap://bob@" + addr}, more...)
	}
	tests := []struct {
		name     string
		args     []string
		sigint   time.Duration // send SIGINT this long after the start, if not 0
		within   time.Duration // after the SIGINT, or the start
		status   int           // exit status; -1 for any failure but 130
		wantText string
	}{
		{"export, silent after login, SIGINT", export(startHostileServer(t, silentAfterLogin)), time.Second, 2 * time.Second, 130, "interrupted"},
		{"export, silent mid-literal, SIGINT", export(startHostileServer(t, silentMidLiteral)), time.Second, 2 * time.Second, 130, "interrupted"},
		{"export, endless untagged, SIGINT", export(startHostileServer(t, endlessUntagged)), time.Second, 2 * time.Second, 130, "interrupted"},
		{"export, endless FETCH of metadata", export(startHostileServer(t, endlessMeta)), 0, 10 * time.Second, -1, "FETCH responses in answer to one command"},
		{"import, silent after login, SIGINT", importTo(startHostileServer(t, silentAfterLogin)), time.Second, 2 * time.Second, 130, "interrupted"},
		{"import, silent at APPEND, SIGINT", importTo(startHostileServer(t, silentAtAppend)), 2 * time.Second, 2 * time.Second, 130, "interrupted"},
		{"export, silent after login, timeout", export(startHostileServer(t, silentAfterLogin), "--timeout", "500ms"), 0, 10 * time.Second, -1, "server silent for 500ms"},
		{"export, silent mid-literal, timeout", export(startHostileServer(t, silentMidLiteral), "--timeout", "500ms"), 0, 15 * time.Second, -1, "silent"},
		{"export, nothing listening", export(refusedAddr), 0, 5 * time.Second, -1, "refused"},
		{"export, POP3 server on imap://", export(pop3), 0, 5 * time.Second, -1, "use pop3://"},
		{"import, nothing listening", importTo(refusedAddr), 0, 5 * time.Second, -1, "refused"},
		{"export, IMAP server on pop3://", []string{"export", "--from", "pop3://alice@" + imap, "--archive", filepath.Join(t.TempDir(), "a")}, 0, 5 * time.Second, -1, "use imap://"},
		{"export, endless UIDL", []string{"export", "--from", "pop3://alice@" + startEndlessPOP3(t, false), "--archive", filepath.Join(t.TempDir(), "a")}, 0, 10 * time.Second, -1, "listing longer than"},
		{"export, POP3 silent after login, timeout", []string{"export", "--from", "pop3://alice@" + startEndlessPOP3(t, true), "--archive", filepath.Join(t.TempDir(), "a"), "--timeout", "500ms"}, 0, 10 * time.Second, -1, "server silent for 500ms"},
		{"import, silent at APPEND, timeout", importTo(startHostileServer(t, silentAtAppend), "--timeout", "500ms"), 0, 10 * time.Second, -1, "server silent for 500ms"},
		{"export, POP3 silent after login, SIGINT", []string{"export", "--from", "pop3://alice@" + startEndlessPOP3(t, true), "--archive", filepath.Join(t.TempDir(), "a")}, time.Second, 2 * time.Second, 130, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := mailferryProcess([]string{"MAILFERRY_PASSWORD=pw"}, tt.args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.sigint > 0 {
				time.Sleep(tt.sigint)
				cmd.Process.Signal(syscall.SIGINT)
				start = time.Now()
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(tt.within + 10*time.Second):
				cmd.Process.Signal(syscall.SIGQUIT)
				time.Sleep(time.Second)
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running %v later\n%s", time.Since(start), out.String())
			}
			el := time.Since(start)
			status := 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			}
			switch {
			case tt.status >= 0 && status != tt.status, tt.status < 0 && (status == 0 || status == 130):
				t.Errorf("exit status %d, want %d\n%s", status, tt.status, out.String())
			case !strings.Contains(out.String(), tt.wantText):
				t.Errorf("output does not say %q:\n%s", tt.wantText, out.String())
			}
			if el > tt.within {
				t.Errorf("ended %v after the SIGINT or the start, want within %v", el, tt.within)
			}
			rss := peakRSS(cmd.ProcessState)
			t.Logf("exit status %d %v after the SIGINT or the start, peak RSS %d MB", status, el.Round(time.Millisecond), rss>>20)
			if rss > 200<<20 {
				t.Errorf("peak RSS %d MB, want under 200 MB", rss>>20)
			}
		})
	}
}

// listenGreeter accepts connections and greets each with greeting, then
// reads until the client hangs up.
func listenGreeter(t *testing.T, greeting string) string {
	t.Helper()
	return testserver.ServeTCP(t, func(c net.Conn) {
		io.WriteString(c, greeting+"\r\n")
		io.Copy(io.Discard, c)
	})
}
