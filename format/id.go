package format

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// ID names a message, a chunk or an archive file: the SHA-256 of its exact bytes.
type ID [32]byte

// SumReader returns the ID of what r yields to its end, and how many bytes
// that was; on a read error, the ID of the bytes read before it.
func SumReader(r io.Reader) (ID, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var id ID
	h.Sum(id[:0])
	return id, n, err
}

// Sum returns the ID of b.
func Sum(b []byte) ID { return ID(sha256.Sum256(b)) }

// String returns the ID as 64 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 12 hex digits, enough to name a snapshot to a person.
func (id ID) Short() string { return id.String()[:12] }

// IsZero reports whether id is the zero value, which never names anything.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID reads 64 hex digits.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("id %q: want 64 hex digits, have %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("id %q: %w", s, err)
	}
	return id, nil
}

// MarshalText encodes the ID as hex, so JSON holds it as a string.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes 64 hex digits.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
