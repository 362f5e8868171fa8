package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// A forget file records snapshots that `archive forget` removed, so that a
// snapshot whose parent was forgotten is not taken for one whose parent
// file was lost (see SPEC.md, "Forget file").

// ForgetHeader is the first record of a forget file.
type ForgetHeader struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	// Tool is the mailferry version that forgot the snapshots.
	Tool string `json:"tool,omitempty"`
}

// Forgotten is a snapshot a forget file records as removed on purpose.
type Forgotten struct {
	ID       ID        `json:"id"`
	Account  string    `json:"account"`
	Started  time.Time `json:"started"`
	Complete bool      `json:"complete"`
	// Reason says which rule let it go: "forget by id", "retention", ...
	Reason string `json:"reason,omitempty"`
}

// WriteForget writes a forget file naming snaps on w.
func WriteForget(w io.Writer, h ForgetHeader, snaps []Forgotten) error {
	v, err := writeVersion("forget", h.Version)
	if err != nil {
		return err
	}
	h.Version = v
	rw, err := newRecordWriter(w)
	if err != nil {
		return err
	}
	if err := rw.write("forget", h); err != nil {
		return err
	}
	for _, s := range snaps {
		if s.ID.IsZero() {
			return errors.New("forgotten snapshot without an id")
		}
		if err := rw.write("snapshot", s); err != nil {
			return err
		}
	}
	return rw.close()
}

// ReadForget reads a forget file, calling fn for each snapshot it names.
func ReadForget(r io.Reader, fn func(Forgotten)) (ForgetHeader, error) {
	var h ForgetHeader
	rr, err := openRecordFile(r, "forget file", "forget", &h)
	if err != nil {
		return h, err
	}
	defer rr.close()
	for {
		kind, raw, err := rr.next()
		if err == io.EOF {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if kind != "snapshot" {
			return h, fmt.Errorf("forget file: unknown record kind %q", kind)
		}
		var s Forgotten
		if err := json.Unmarshal(raw, &s); err != nil {
			return h, fmt.Errorf("forget file snapshot record: %w", err)
		}
		fn(s)
	}
}
