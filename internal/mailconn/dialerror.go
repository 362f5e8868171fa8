package mailconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// Op names the step of Dial that failed.
type Op string

const (
	OpPassword Op = "password"       // getting the password
	OpDial     Op = "connect"        // TCP connection
	OpTLS      Op = "TLS handshake"  // implicit TLS or after STARTTLS
	OpGreeting Op = "greeting"       // server greeting and capabilities
	OpStartTLS Op = "STARTTLS"       // the server refused STARTTLS
	OpSecurity Op = "security check" // TLS is missing and plaintext is not allowed
	OpAuth     Op = "login"          // LOGIN or AUTHENTICATE
)

// ErrPlaintextRefused is matched (errors.Is) when Dial would have to send the
// password without TLS to a host that is not loopback.
var ErrPlaintextRefused = errors.New("server offers no STARTTLS and plaintext is refused for hosts other than loopback; use imaps://, or --allow-plaintext if the network is trusted")

// DialError is what Dial returns when it fails: which endpoint (as a URL
// without password), which step, and why. For OpAuth, Err holds the
// server's *imap.Error with its NO text.
type DialError struct {
	Endpoint string
	Op       Op
	Err      error
	// Final is set when no connection to the endpoint has worked yet:
	// IsConnectionError then says the failure is not worth a redial.
	Final bool
}

func (e *DialError) Error() string {
	var sb strings.Builder
	sb.WriteString(e.Endpoint)
	sb.WriteString(": ")
	sb.WriteString(string(e.Op))
	sb.WriteString(": ")
	sb.WriteString(e.Err.Error())
	if e.Op == OpTLS && IsCertificateError(e.Err) {
		sb.WriteString(" (certificate verification failed; trust the server's CA with --tls-ca FILE, or skip the check with --insecure-skip-verify, which lets anyone in the path read the password)")
	}
	return sb.String()
}

func (e *DialError) Unwrap() error { return e.Err }

// IsCertificateError reports whether err is a failed check of the server's
// certificate (unknown authority, wrong host name, expired), as opposed to a
// TLS failure for other reasons.
func IsCertificateError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		ierr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &ierr)
}
