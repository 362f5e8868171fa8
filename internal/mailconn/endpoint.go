package mailconn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is one mail account on one server, parsed from a URL such as
// imaps://alice@mail.example.org. It never holds a password.
type Endpoint struct {
	Scheme string // "imap", "imaps", "pop3" or "pop3s"
	User   string // login name, decoded; may contain "@"
	Host   string // lowercased; an IPv6 address without brackets
	Port   int    // the URL's port, or the scheme's default
}

// defaultPorts are the IANA ports; the "s" schemes use implicit TLS.
var defaultPorts = map[string]int{
	"imap":  143,
	"imaps": 993,
	"pop3":  110,
	"pop3s": 995,
}

// ErrPasswordInURL is matched (errors.Is) by the error ParseEndpoint returns
// for a URL with user:password@. The error never contains the password.
var ErrPasswordInURL = errors.New("a password in the endpoint URL is refused (it would show in process lists and shell history); use --password-file or MAILFERRY_PASSWORD")

// ParseEndpoint parses SCHEME://USER@HOST[:PORT] where SCHEME is imap,
// imaps, pop3 or pop3s. USER may contain "@", literally or as %40: the last
// "@" ends it. An IPv6 HOST goes in brackets. A trailing "/" is allowed;
// other paths, queries and fragments are not, so nothing is silently
// ignored. Error messages never repeat a password the URL may hold.
func ParseEndpoint(s string) (Endpoint, error) {
	var ep Endpoint
	shown := redactURL(s)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return ep, fmt.Errorf("endpoint %q: want SCHEME://USER@HOST[:PORT] with SCHEME imap, imaps, pop3 or pop3s", shown)
	}
	ep.Scheme = strings.ToLower(scheme)
	if _, known := defaultPorts[ep.Scheme]; !known {
		return ep, fmt.Errorf("endpoint %q: unknown scheme %q, want imap, imaps, pop3 or pop3s", shown, scheme)
	}

	// Users like alice@example.org put "@" in the user part unencoded; a
	// host never contains "@", so the last one separates them.
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ep, fmt.Errorf("endpoint %q: no user; want %s://USER@HOST", shown, ep.Scheme)
	}
	userinfo, hostpart := rest[:at], rest[at+1:]
	if user, _, hasPassword := strings.Cut(userinfo, ":"); hasPassword {
		// Name the endpoint without the password so the user sees which
		// argument is meant.
		if u, err := url.PathUnescape(user); err == nil {
			user = u
		}
		return ep, fmt.Errorf("endpoint %s://%s@%s: %w", ep.Scheme, userinfoString(user), hostpart, ErrPasswordInURL)
	}
	user, err := url.PathUnescape(userinfo)
	if err != nil {
		return ep, fmt.Errorf("endpoint %q: user %q: bad percent-encoding", shown, userinfo)
	}
	if user == "" {
		return ep, fmt.Errorf("endpoint %q: empty user", shown)
	}
	ep.User = user

	if i := strings.IndexAny(hostpart, "/?#"); i >= 0 {
		if hostpart[i:] != "/" {
			return ep, fmt.Errorf("endpoint %q: unexpected path, query or fragment %q; want %s://USER@HOST[:PORT]", shown, hostpart[i:], ep.Scheme)
		}
		hostpart = hostpart[:i]
	}
	host, port, err := splitHostPort(hostpart)
	if err != nil {
		return ep, fmt.Errorf("endpoint %q: %w", shown, err)
	}
	ep.Host = strings.ToLower(host)
	ep.Port = defaultPorts[ep.Scheme]
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return ep, fmt.Errorf("endpoint %q: port %q is not a number from 1 to 65535", shown, port)
		}
		ep.Port = n
	}
	return ep, nil
}

// splitHostPort splits HOST[:PORT], where an IPv6 HOST must be bracketed;
// port is empty when absent.
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("host %q: missing ]", s)
		}
		host, rest := s[1:end], s[end+1:]
		// A zone such as fe80::1%25eth0 is percent-encoded in URLs
		// (RFC 6874).
		if h, err := url.PathUnescape(host); err == nil {
			host = h
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() {
			return "", "", fmt.Errorf("host %q: not an IPv6 address", s[:end+1])
		}
		if rest == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("unexpected %q after %q", rest, s[:end+1])
		}
		return host, rest[1:], nil
	}
	if strings.Count(s, ":") > 1 {
		return "", "", fmt.Errorf("host %q: put an IPv6 address in brackets, like [::1]:143", s)
	}
	host, port, hasPort := strings.Cut(s, ":")
	if host == "" {
		return "", "", errors.New("empty host")
	}
	if strings.ContainsAny(host, " \t%[]\\\"") {
		return "", "", fmt.Errorf("host %q: invalid character", host)
	}
	if hasPort && port == "" {
		return "", "", fmt.Errorf("empty port after %q", host+":")
	}
	return host, port, nil
}

// redactURL hides what may be a password in an unparsed URL (anything from
// the first ":" of the user part to the last "@") so that errors can quote
// malformed input.
func redactURL(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	head := s[:at]
	start := 0
	if i := strings.Index(head, "://"); i >= 0 {
		start = i + len("://")
	}
	if i := strings.IndexByte(head[start:], ':'); i >= 0 {
		return head[:start+i] + ":***" + s[at:]
	}
	return s
}

// userinfoString percent-encodes a user for a URL, so that the "@" of
// alice@example.org does not look like the end of the user part.
func userinfoString(user string) string {
	return url.User(user).String()
}

// Implicit reports whether the scheme starts TLS before the protocol
// (imaps, pop3s) rather than through STARTTLS or STLS.
func (ep Endpoint) Implicit() bool {
	return ep.Scheme == "imaps" || ep.Scheme == "pop3s"
}

// IsIMAP reports whether the endpoint speaks IMAP (imap or imaps).
func (ep Endpoint) IsIMAP() bool {
	return ep.Scheme == "imap" || ep.Scheme == "imaps"
}

// IsPOP3 reports whether the endpoint speaks POP3 (pop3 or pop3s).
func (ep Endpoint) IsPOP3() bool {
	return ep.Scheme == "pop3" || ep.Scheme == "pop3s"
}

// Address returns HOST:PORT for net.Dial, with an IPv6 host in brackets.
func (ep Endpoint) Address() string {
	return net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
}

// hostLiteral is the host as written in URLs: an IPv6 address in brackets.
func (ep Endpoint) hostLiteral() string {
	if strings.Contains(ep.Host, ":") {
		return "[" + strings.ReplaceAll(ep.Host, "%", "%25") + "]"
	}
	return ep.Host
}

// Account returns USER@HOST, the account's name independent of protocol and
// port (alice@example.org@mail.example.org, bob@[::1]). It is what archives
// and manifests record.
func (ep Endpoint) Account() string {
	return ep.User + "@" + ep.hostLiteral()
}

// String returns the endpoint as a URL, with the user percent-encoded where
// needed and the port only when it is not the scheme's default. It never
// contains a password, so it is safe for logs and errors.
func (ep Endpoint) String() string {
	s := ep.Scheme + "://" + userinfoString(ep.User) + "@" + ep.hostLiteral()
	if ep.Port != defaultPorts[ep.Scheme] {
		s += ":" + strconv.Itoa(ep.Port)
	}
	return s
}
