package mailconn

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The Appender's connection is read by whichever goroutine needs a line
// and finds nobody reading: the sender waiting for a continuation, or the
// goroutine in Result waiting for an answer. It reads one line, hands it
// out under a.mu and wakes the others, who look whether it was theirs:
// continuation requests ("+") queue up for the sender, tagged answers are
// kept by tag until asked for, untagged data is dropped (but for
// CAPABILITY, which setup wants).

// wait reads lines until ready() holds, or the connection fails. The
// caller holds a.mu, which wait releases while it reads or sleeps.
func (a *Appender) wait(ready func() bool) error {
	for !ready() {
		if a.readErr != nil {
			return a.readErr
		}
		if a.reading {
			a.cond.Wait()
			continue
		}
		a.reading = true
		a.mu.Unlock()
		line, err := a.readLine()
		a.mu.Lock()
		a.reading = false
		a.dispatch(line, err)
		a.cond.Broadcast()
	}
	return nil
}

// dispatch files one line read (or the read's error). Caller holds a.mu.
func (a *Appender) dispatch(line string, err error) {
	switch {
	case err != nil:
		a.readErr = err
	case strings.HasPrefix(line, "+"): // no tag starts with "+"
		a.conts = append(a.conts, strings.TrimPrefix(strings.TrimPrefix(line, "+"), " "))
	case strings.HasPrefix(line, "*"):
		if rest, ok := cutPrefixFold(line, "* CAPABILITY "); ok {
			a.capLine = rest
		}
	default:
		tag, _, _ := strings.Cut(line, " ")
		a.answers[tag] = line
	}
}

// answered reports whether tag's answer has come. Caller holds a.mu.
func (a *Appender) answered(tag string) bool {
	_, ok := a.answers[tag]
	return ok
}

// answer waits for tag's answer and returns its error: a *CommandError
// for NO or BAD, the connection's error if it failed first.
func (a *Appender) answer(tag string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.take(tag)
	return err
}

// take waits for tag's answer and returns it with its error (see answer);
// line is empty when the connection failed first. Caller holds a.mu.
func (a *Appender) take(tag string) (line string, err error) {
	if err := a.wait(func() bool { return a.answered(tag) }); err != nil {
		return "", err
	}
	line = a.answers[tag]
	delete(a.answers, tag)
	return line, status(line, tag)
}

// continuation waits for the server's continuation request ("+ text") or,
// instead, tag's answer: then answered is true and the answer stays for
// answer to take.
func (a *Appender) continuation(tag string) (text string, answered bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.wait(func() bool { return len(a.conts) > 0 || a.answered(tag) }); err != nil {
		return "", false, err
	}
	if a.answered(tag) {
		return "", true, nil
	}
	text, a.conts = a.conts[0], a.conts[1:]
	return text, false, nil
}

// readLine reads one response line; a literal in it ({n}) is read and
// dropped, since nothing an Appender asks for comes as one.
func (a *Appender) readLine() (string, error) {
	var b strings.Builder
	for {
		line, err := readBoundedLine(a.br)
		if err != nil {
			return "", err
		}
		if b.Len()+len(line) > maxKeptLine {
			return "", limitError("a response longer than %d bytes to an Appender", maxKeptLine)
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "}") {
			return b.String(), nil
		}
		i := strings.LastIndexByte(line, '{')
		if i < 0 {
			return b.String(), nil
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(line[i+1:len(line)-1], "+"), 10, 64)
		if err != nil {
			return b.String(), nil
		}
		if n > maxTokenLength {
			return "", limitError("a literal of %d bytes in an answer to an Appender (limit %d)", n, maxTokenLength)
		}
		if _, err := io.CopyN(io.Discard, a.br, n); err != nil {
			return "", err
		}
	}
}

// status returns the error of tag's answer line: nil for OK, a
// *CommandError for NO or BAD.
func status(line, tag string) error {
	rest := strings.TrimPrefix(line, tag+" ")
	st, text, _ := strings.Cut(rest, " ")
	switch st = strings.ToUpper(st); st {
	case "OK":
		return nil
	case "NO", "BAD":
		return &CommandError{Status: st, Text: text}
	}
	return fmt.Errorf("unexpected answer %q", line)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// appendUID reads [APPENDUID validity uid-set] from a tagged OK.
func appendUID(line string) AppendResult {
	i := strings.Index(strings.ToUpper(line), "[APPENDUID ")
	if i < 0 {
		return AppendResult{}
	}
	f := strings.Fields(strings.SplitN(line[i+11:], "]", 2)[0])
	if len(f) != 2 {
		return AppendResult{}
	}
	v, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return AppendResult{}
	}
	uids, err := uidSet(f[1])
	if err != nil {
		return AppendResult{}
	}
	return AppendResult{UIDs: uids, UIDValidity: uint32(v)}
}

// uidSet expands a uid-set of numbers and ranges (RFC 4315), at most a
// million UIDs.
func uidSet(s string) ([]uint32, error) {
	var uids []uint32
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil || a == 0 {
			return nil, fmt.Errorf("uid-set %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil || b == 0 {
				return nil, fmt.Errorf("uid-set %q", s)
			}
		}
		if a > b {
			a, b = b, a
		}
		if b-a >= 1<<20 || len(uids) > 1<<20 {
			return nil, fmt.Errorf("uid-set %q too large", s)
		}
		for u := a; u <= b; u++ {
			uids = append(uids, uint32(u))
		}
	}
	return uids, nil
}
