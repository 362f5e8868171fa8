package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// SnapshotEncoder writes a snapshot file: the header, then each folder before
// the messages it holds, then the end record on Close.
type SnapshotEncoder struct {
	rw      *recordWriter
	folders map[string]bool
}

// NewSnapshotEncoder starts a snapshot file on w with header h, of format
// version h.Version (0: Version).
func NewSnapshotEncoder(w io.Writer, h Snapshot) (*SnapshotEncoder, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	v, err := writeVersion("snapshot", h.Version)
	if err != nil {
		return nil, err
	}
	h.Version = v
	rw, err := newRecordWriter(w)
	if err != nil {
		return nil, err
	}
	if err := rw.write("snapshot", h); err != nil {
		return nil, err
	}
	return &SnapshotEncoder{rw: rw, folders: map[string]bool{}}, nil
}

// Folder records a folder. It must come before that folder's messages.
func (e *SnapshotEncoder) Folder(f Folder) error {
	if err := f.validate(); err != nil {
		return err
	}
	if e.folders[asJSON(f.Name)] {
		return fmt.Errorf("folder %s recorded twice", QuoteName(f.Name))
	}
	if err := e.rw.write("folder", f); err != nil {
		return fmt.Errorf("folder %s: %w", QuoteName(f.Name), err)
	}
	// Only a folder whose record was written may have messages.
	e.folders[asJSON(f.Name)] = true
	return nil
}

// Message records a message of a folder already recorded.
func (e *SnapshotEncoder) Message(m Message) error {
	if !e.folders[asJSON(m.Folder)] {
		return fmt.Errorf("message uid %d: folder %s not recorded before it", m.UID, QuoteName(m.Folder))
	}
	if err := m.validate(); err != nil {
		return err
	}
	if err := e.rw.write("message", m); err != nil {
		return fmt.Errorf("message uid %d in folder %s: %w", m.UID, QuoteName(m.Folder), err)
	}
	return nil
}

// Close writes the end record and finishes the zstd stream. It does not
// close the underlying writer.
func (e *SnapshotEncoder) Close() error { return e.rw.close() }

// SnapshotDecoder reads a snapshot file record by record, so that a snapshot
// of any size is read in bounded memory.
type SnapshotDecoder struct {
	rr      *recordReader
	header  Snapshot
	folders map[string]bool
}

// SnapshotRecord is a folder or a message; exactly one field is set.
type SnapshotRecord struct {
	Folder  *Folder
	Message *Message
}

// NewSnapshotDecoder reads the header of the snapshot file on r. It refuses a
// file of a newer format version with a *VersionError.
func NewSnapshotDecoder(r io.Reader) (*SnapshotDecoder, error) {
	d := &SnapshotDecoder{folders: map[string]bool{}}
	rr, err := openRecordFile(r, "snapshot", "snapshot", &d.header)
	if err != nil {
		return nil, err
	}
	if err := d.header.validate(); err != nil {
		rr.close()
		return nil, fmt.Errorf("snapshot header: %w", err)
	}
	d.rr = rr
	return d, nil
}

// Header returns the snapshot's header record.
func (d *SnapshotDecoder) Header() Snapshot { return d.header }

// Next returns the next folder or message, or io.EOF after the last one.
func (d *SnapshotDecoder) Next() (SnapshotRecord, error) {
	kind, raw, err := d.rr.next()
	if err != nil {
		return SnapshotRecord{}, err
	}
	switch kind {
	case "folder":
		f := new(Folder)
		if err := json.Unmarshal(raw, f); err != nil {
			return SnapshotRecord{}, fmt.Errorf("snapshot folder record: %w", err)
		}
		if err := f.validate(); err != nil {
			return SnapshotRecord{}, fmt.Errorf("snapshot folder record: %w", err)
		}
		if d.folders[f.Name] {
			return SnapshotRecord{}, fmt.Errorf("snapshot: folder %q recorded twice", f.Name)
		}
		d.folders[f.Name] = true
		return SnapshotRecord{Folder: f}, nil
	case "message":
		m := new(Message)
		if err := json.Unmarshal(raw, m); err != nil {
			return SnapshotRecord{}, fmt.Errorf("snapshot message record: %w", err)
		}
		if !d.folders[m.Folder] {
			return SnapshotRecord{}, fmt.Errorf("snapshot: message uid %d names folder %q before its folder record", m.UID, m.Folder)
		}
		if err := m.validate(); err != nil {
			return SnapshotRecord{}, fmt.Errorf("snapshot message record: %w", err)
		}
		return SnapshotRecord{Message: m}, nil
	}
	return SnapshotRecord{}, fmt.Errorf("snapshot: unknown record kind %q", kind)
}

// Close releases the decoder; it does not close the underlying reader.
func (d *SnapshotDecoder) Close() { d.rr.close() }

func (h *Snapshot) validate() error {
	if h.Account == "" {
		return errors.New("snapshot has no account")
	}
	switch h.Source.Kind {
	case SourceIMAP, SourcePOP3, SourceMaildir, SourceMbox:
	default:
		return fmt.Errorf("snapshot source kind %q unknown", h.Source.Kind)
	}
	return nil
}

func (f *Folder) validate() error {
	if f.Name == "" {
		return errors.New("folder has no name")
	}
	if len(f.Delimiter) > 1 {
		return fmt.Errorf("folder %q: delimiter %q is longer than one character", f.Name, f.Delimiter)
	}
	return nil
}

func (m *Message) validate() error {
	if m.ID.IsZero() {
		return fmt.Errorf("message uid %d in %q has no id", m.UID, m.Folder)
	}
	if m.Size < 0 {
		return fmt.Errorf("message %s: negative size %d", m.ID.Short(), m.Size)
	}
	if m.Size > MaxMessageSize {
		return fmt.Errorf("message %s: %d bytes: %w", m.ID.Short(), m.Size, ErrTooLarge)
	}
	if m.InternalDate.IsZero() {
		return fmt.Errorf("message %s in %q has no internal date", m.ID.Short(), m.Folder)
	}
	return nil
}

// SameDate reports whether two internal dates are the same instant with the
// same zone offset, which is what an IMAP INTERNALDATE round trip keeps.
func SameDate(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

// asJSON is s as a reader gets it back: encoding/json writes each byte of
// invalid UTF-8 as U+FFFD. Two names that differ only there are one name in
// the file, and a reader would refuse the second folder record.
func asJSON(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
