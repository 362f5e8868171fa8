package mbox

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// Message is what an mbox file holds about a message besides its bytes.
type Message struct {
	// Sender is the address of the From_ line.
	Sender string
	// FromLineDate is the From_ line's date, the message's internal date.
	// mbox keeps it to the second and without a zone: a Reader gives it in
	// UTC unless the line names a zone, a Writer writes it in UTC.
	FromLineDate time.Time
	// DateErr says why a Reader could not read the From_ line's date;
	// FromLineDate is zero then, and the caller decides what date to use.
	DateErr error
	// Flags come from the mbox headers (Status R, X-Status A F T D,
	// X-Keywords) and, on reading, also from Thunderbird's X-Mozilla-Status
	// and X-Mozilla-Keys, which stay in the message.
	Flags format.Flags
	// Pseudo marks UW-IMAP's "FOLDER INTERNAL DATA" message (it carries an
	// X-IMAP header), which holds folder state, not mail: exporters skip it.
	Pseudo bool
}

// Reader reads the messages of an mbox file one after the other.
type Reader struct {
	s       scanner
	body    *body
	started bool
	err     error
	hdr     []byte // the header section read, reused
	out     []byte // the header section without mbox headers, reused
}

// NewReader returns a Reader of the mbox in r.
func NewReader(r io.Reader) *Reader {
	return &Reader{s: scanner{br: bufio.NewReaderSize(r, bufSize)}}
}

// Next returns the next message, and a reader of its bytes that is valid
// until the next call to Next. The bytes are those of the message as it was
// stored, with mboxrd quoting undone, without the mbox headers, and without
// the empty line that separates it from the next message. Next returns io.EOF
// after the last message, and ErrNotMbox if the input does not start (after
// empty lines) with a From_ line. Errors are sticky.
func (r *Reader) Next() (Message, io.Reader, error) {
	if r.err != nil {
		return Message{}, nil, r.err
	}
	m, b, err := r.next()
	if err != nil {
		r.err = err
		return Message{}, nil, err
	}
	return m, b, nil
}

func (r *Reader) next() (Message, io.Reader, error) {
	if r.body != nil {
		if _, err := io.Copy(io.Discard, r.body); err != nil {
			return Message{}, nil, err
		}
		r.body = nil
	}
	br := r.s.br
	if !r.started {
		r.started = true
		if err := skipEmptyLines(br); err != nil {
			return Message{}, nil, err
		}
	}
	p, err := br.Peek(5)
	if len(p) == 0 && err == io.EOF {
		return Message{}, nil, io.EOF
	}
	if string(p) != "From " {
		if err != nil && err != io.EOF {
			return Message{}, nil, err
		}
		return Message{}, nil, ErrNotMbox
	}
	line, err := readFromLine(br)
	if err != nil {
		return Message{}, nil, err
	}
	var m Message
	m.Sender, m.FromLineDate, m.DateErr = parseFromLine(line)

	r.s.reset()
	r.hdr = r.hdr[:0]
	raw, over := 0, false
	for {
		p, start, unquoted, err := r.s.piece()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Message{}, nil, err
		}
		r.hdr = append(r.hdr, p...)
		raw += len(p)
		if unquoted && start {
			raw++
		}
		if raw > headerCap {
			over = true
			break
		}
		if start && isEmptyLine(p) {
			break
		}
	}
	out := r.hdr
	m.Flags = format.Flags{}
	if !over {
		var res statusResult
		r.out, res = filterHeader(r.out[:0], r.hdr)
		out, m.Flags, m.Pseudo = r.out, res.flags, res.pseudo
	}
	r.body = &body{s: &r.s, pending: out}
	return m, r.body, nil
}

// skipEmptyLines skips the empty lines some tools leave before the first
// From_ line.
func skipEmptyLines(br *bufio.Reader) error {
	for {
		p, err := br.Peek(2)
		switch {
		case len(p) > 0 && p[0] == '\n':
			br.Discard(1)
		case len(p) == 2 && p[0] == '\r' && p[1] == '\n':
			br.Discard(2)
		default:
			if err != nil && err != io.EOF {
				return err
			}
			return nil
		}
	}
}

// readFromLine reads the From_ line, keeping its first 4 KiB, which hold
// sender and date on any real line.
func readFromLine(br *bufio.Reader) (string, error) {
	const keep = 4 << 10
	var line []byte
	for {
		p, err := br.ReadSlice('\n')
		if n := min(len(p), keep-len(line)); n > 0 {
			line = append(line, p[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// body reads one message: first its header section, then the rest as the
// scanner hands it over.
type body struct {
	s       *scanner
	pending []byte
	err     error
}

func (b *body) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.pending) == 0 {
			if b.err != nil {
				break
			}
			b.pending, _, _, b.err = b.s.piece()
			continue
		}
		c := copy(p[n:], b.pending)
		b.pending = b.pending[c:]
		n += c
	}
	if n > 0 {
		return n, nil
	}
	return 0, b.err
}
