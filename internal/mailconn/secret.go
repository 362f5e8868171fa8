package mailconn

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a password that does not print: fmt (every verb, %#v too),
// log/slog and encoding/json all show "***". Convert it with Reveal only
// where the password is sent to a server.
type Secret string

const redacted = "***"

// Reveal returns the password itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "***".
func (s Secret) String() string { return redacted }

// Format prints "***" for every verb, so that %x or %q cannot leak the
// password either.
func (s Secret) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// LogValue makes slog print "***".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText makes encoding/json and similar encoders write "***".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
