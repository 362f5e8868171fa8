package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ConfigMagic is the value of a config file's "format" field.
const ConfigMagic = "mailferry-archive"

// ChunkerPolynomial is the Rabin polynomial mailferry chunks bodies with. It
// is fixed, so that every writer cuts the same attachment at the same places
// and stores it once.
const ChunkerPolynomial = 0x3DA3358B4DC173

// Config is the archive's config file: written once when the archive is
// created, never changed.
type Config struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// ChunkerPolynomial is recorded so that a writer with other settings can
	// tell that its chunks would not deduplicate against these.
	ChunkerPolynomial uint64 `json:"chunker_polynomial"`
}

// EncodeConfig returns the config file's bytes. A zero c.Version means
// Version, the newest.
func EncodeConfig(c Config) ([]byte, error) {
	c.Format = ConfigMagic
	v, err := writeVersion("archive", c.Version)
	if err != nil {
		return nil, err
	}
	c.Version = v
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeConfig parses a config file, refusing a newer version with a *VersionError.
func DecodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if c.Format != ConfigMagic {
		return c, fmt.Errorf("config: format is %q, want %q (not a mailferry archive)", c.Format, ConfigMagic)
	}
	if err := checkVersion("archive", c.Version); err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, errors.New("config: archive has no id")
	}
	return c, nil
}
