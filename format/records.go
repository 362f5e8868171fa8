package format

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Record files (snapshots and indexes) are a zstd stream of JSON lines. Each
// line is an object with a single key naming the record's kind; the first is
// the file's header, the last is {"end":{"records":N}}.

// MaxRecordLine bounds one line, its newline included, so a damaged file
// cannot make a reader allocate without limit. Writers refuse to write a
// longer record (ErrRecordTooLong). An index record of a message of
// MaxMessageChunks chunks fits.
const MaxRecordLine = 16 << 20

// ErrRecordTooLong means a record would be longer than MaxRecordLine, so
// no reader would accept the file: the encoder refused it and wrote
// nothing, and the file being written stays valid.
var ErrRecordTooLong = errors.New("record longer than a reader accepts")

// maxDecoderMemory bounds what a damaged or hostile zstd header can make the
// decoder allocate.
const maxDecoderMemory = 64 << 20

type endRecord struct {
	Records int `json:"records"`
}

// recordWriter writes JSON lines into a zstd stream.
type recordWriter struct {
	zw   *zstd.Encoder
	bw   *bufio.Writer
	line bytes.Buffer // the record being encoded, checked before it is written
	enc  *json.Encoder
	n    int
}

func newRecordWriter(w io.Writer) (*recordWriter, error) {
	return newRecordWriterLevel(w, zstd.SpeedBetterCompression)
}

func newRecordWriterLevel(w io.Writer, level zstd.EncoderLevel) (*recordWriter, error) {
	// A 1 MiB window: records repeat themselves within a few lines, and
	// the default window (8 MiB at this level) was allocated afresh for
	// every index and snapshot file, most of an export's garbage.
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, err
	}
	rw := &recordWriter{zw: zw, bw: bufio.NewWriterSize(zw, 64<<10)}
	rw.enc = json.NewEncoder(&rw.line)
	rw.enc.SetEscapeHTML(false)
	return rw, nil
}

// write encodes one record as {"kind":v} on a line of its own. A record no
// reader would accept is not written: ErrRecordTooLong.
func (w *recordWriter) write(kind string, v any) error {
	// {"kind":v} written by hand: a map per record cost an allocation and
	// a sort, for every chunk and message of an export.
	w.line.Reset()
	w.line.WriteString(`{"` + kind + `":`)
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	w.line.Truncate(w.line.Len() - 1) // the newline Encode ends with
	w.line.WriteString("}\n")
	if w.line.Len() > MaxRecordLine {
		return fmt.Errorf("%s record of %d bytes, over the %d a reader accepts: %w", kind, w.line.Len(), MaxRecordLine, ErrRecordTooLong)
	}
	w.n++
	_, err := w.bw.Write(w.line.Bytes())
	return err
}

func (w *recordWriter) close() error {
	if err := w.write("end", endRecord{Records: w.n}); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	return w.zw.Close()
}

// recordReader reads the lines of a record file one at a time.
type recordReader struct {
	zr   *zstd.Decoder
	sc   *bufio.Scanner
	what string
	n    int
	done bool
}

func newRecordReader(r io.Reader, what string) (*recordReader, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecoderMemory))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), MaxRecordLine)
	return &recordReader{zr: zr, sc: sc, what: what}, nil
}

// next returns the next record's kind and raw value. After the end record it
// returns io.EOF; a stream that stops before it gives ErrTruncated.
func (r *recordReader) next() (string, json.RawMessage, error) {
	if r.done {
		return "", nil, io.EOF
	}
	if !r.sc.Scan() {
		err := r.sc.Err()
		if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrTruncated
		}
		return "", nil, fmt.Errorf("%s after %d records: %w", r.what, r.n, err)
	}
	line := r.sc.Bytes()
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(line, &rec); err != nil {
		return "", nil, fmt.Errorf("%s record %d: %w", r.what, r.n+1, err)
	}
	if len(rec) != 1 {
		return "", nil, fmt.Errorf("%s record %d: want one key, have %d", r.what, r.n+1, len(rec))
	}
	for kind, raw := range rec {
		if kind == "end" {
			var e endRecord
			if err := json.Unmarshal(raw, &e); err != nil {
				return "", nil, fmt.Errorf("%s end record: %w", r.what, err)
			}
			if e.Records != r.n {
				return "", nil, fmt.Errorf("%s: end record counts %d records, file has %d", r.what, e.Records, r.n)
			}
			r.done = true
			// Nothing may follow the end record.
			if r.sc.Scan() || r.sc.Err() != nil {
				return "", nil, fmt.Errorf("%s: data after the end record", r.what)
			}
			return "", nil, io.EOF
		}
		r.n++
		return kind, raw, nil
	}
	panic("unreachable")
}

func (r *recordReader) close() { r.zr.Close() }

// openRecordFile starts reading a record file whose first record must be of
// kind header, and decodes that record into h, refusing a version this
// package does not read (a *VersionError for a newer one).
func openRecordFile(r io.Reader, what, header string, h any) (*recordReader, error) {
	rr, err := newRecordReader(r, what)
	if err != nil {
		return nil, err
	}
	kind, raw, err := rr.next()
	switch {
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("%s: no header record: %w", what, ErrTruncated)
	case err != nil:
	case kind != header:
		err = fmt.Errorf("%s: first record is %q, want %q", what, kind, header)
	default:
		// Every header holds the file's version: a newer one is refused
		// before anything else of the file is trusted.
		var v struct {
			Version int `json:"version"`
		}
		if err = json.Unmarshal(raw, &v); err == nil {
			err = json.Unmarshal(raw, h)
		}
		if err != nil {
			err = fmt.Errorf("%s header: %w", what, err)
		} else {
			err = checkVersion(what, v.Version)
		}
	}
	if err != nil {
		rr.close()
		return nil, err
	}
	return rr, nil
}
