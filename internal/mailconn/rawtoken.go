package mailconn

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TokenKind says what a Token is.
type TokenKind int

const (
	TokenAtom    TokenKind = iota // an atom, number or NIL, in Text
	TokenString                   // a quoted string, unquoted, in Text
	TokenLiteral                  // a literal of Size bytes: Literal or LiteralText reads it
	TokenOpen                     // "("
	TokenClose                    // ")"
	TokenEnd                      // the end of the response
)

func (k TokenKind) String() string {
	return [...]string{"atom", "quoted string", "literal", `"("`, `")"`, "end of line"}[k]
}

// Token is one token of a response a RawConn reads.
type Token struct {
	Kind TokenKind
	Text string
	Size int64
}

// Next returns the next token of the response, after the spaces before
// it; what the caller left of the last literal is skipped first. An atom
// or quoted string over maxTokenLength, or a response whose text
// (literals aside) outgrows maxLineLength, fails with ErrServerLimit.
func (c *RawConn) Next() (Token, error) {
	if c.ended {
		return Token{Kind: TokenEnd}, nil
	}
	if err := c.lit.drain(); err != nil {
		return Token{}, err
	}
	b, err := c.readByte()
	for err == nil && b == ' ' {
		b, err = c.readByte()
	}
	if err != nil {
		return Token{}, err
	}
	switch b {
	case '(':
		return Token{Kind: TokenOpen}, nil
	case ')':
		return Token{Kind: TokenClose}, nil
	case '\n':
		c.ended = true
		return Token{Kind: TokenEnd}, nil
	case '\r':
		if b, err = c.readByte(); err == nil && b != '\n' {
			err = fmt.Errorf("%w: CR without LF", errRawSyntax)
		}
		c.ended = true
		return Token{Kind: TokenEnd}, err
	case '"':
		return c.quoted()
	case '{':
		return c.literalToken()
	}
	var sb strings.Builder
	for {
		sb.WriteByte(b)
		if sb.Len() > maxTokenLength {
			return Token{}, limitError("an atom longer than %d bytes", maxTokenLength)
		}
		if b, err = c.br.ReadByte(); err != nil {
			return Token{}, err
		}
		if b == ' ' || b == '(' || b == ')' || b == '\r' || b == '\n' {
			c.br.UnreadByte()
			return Token{Kind: TokenAtom, Text: sb.String()}, nil
		}
		if c.line++; c.line > maxLineLength {
			return Token{}, limitError("a response line longer than %d bytes", maxLineLength)
		}
	}
}

// readByte reads one byte of the response's text.
func (c *RawConn) readByte() (byte, error) {
	if c.line++; c.line > maxLineLength {
		return 0, limitError("a response line longer than %d bytes", maxLineLength)
	}
	return c.br.ReadByte()
}

// quoted reads a quoted string after its opening quote.
func (c *RawConn) quoted() (Token, error) {
	var sb strings.Builder
	for {
		b, err := c.readByte()
		if err != nil {
			return Token{}, err
		}
		switch b {
		case '"':
			return Token{Kind: TokenString, Text: sb.String()}, nil
		case '\\':
			if b, err = c.readByte(); err != nil {
				return Token{}, err
			}
		case '\r', '\n':
			return Token{}, fmt.Errorf("%w: a quoted string with a line end", errRawSyntax)
		}
		if sb.WriteByte(b); sb.Len() > maxTokenLength {
			return Token{}, limitError("a quoted string longer than %d bytes", maxTokenLength)
		}
	}
}

// literalToken reads a literal's announcement, {n}CRLF, after its "{".
func (c *RawConn) literalToken() (Token, error) {
	var digits []byte
	for {
		b, err := c.readByte()
		if err != nil {
			return Token{}, err
		}
		if b == '}' {
			break
		}
		if len(digits) > 20 {
			return Token{}, fmt.Errorf("%w: a literal's size %q…", errRawSyntax, digits)
		}
		digits = append(digits, b)
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(string(digits), "+"), 10, 64)
	if err != nil || n < 0 {
		return Token{}, fmt.Errorf("%w: a literal's size %q", errRawSyntax, digits)
	}
	cr, err := c.readByte()
	if err == nil && cr == '\r' {
		cr, err = c.readByte()
	}
	if err != nil {
		return Token{}, err
	}
	if cr != '\n' {
		return Token{}, fmt.Errorf("%w: %q after a literal's size", errRawSyntax, cr)
	}
	c.lit = literalReader{r: c.br, n: n}
	return Token{Kind: TokenLiteral, Size: n}, nil
}

// Literal returns a reader of the literal Next returned last, which fails
// with io.ErrUnexpectedEOF when the connection ends before its last byte.
func (c *RawConn) Literal() io.Reader { return &c.lit }

// LiteralText reads the literal Next returned last into memory: those
// that are no message body, which the server may not make larger than
// maxTokenLength.
func (c *RawConn) LiteralText() (string, error) {
	if c.lit.n > maxTokenLength {
		return "", limitError("a literal of %d bytes that is not a message body (limit %d)", c.lit.n, maxTokenLength)
	}
	b, err := io.ReadAll(&c.lit)
	return string(b), err
}

// Rest reads the rest of the response line (response text, spaces
// included) without its line end.
func (c *RawConn) Rest() (string, error) {
	if c.ended {
		return "", nil
	}
	if err := c.lit.drain(); err != nil {
		return "", err
	}
	var sb strings.Builder
	for {
		b, err := c.readByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			c.ended = true
			return strings.TrimSuffix(sb.String(), "\r"), nil
		}
		sb.WriteByte(b)
	}
}

// literalReader reads the n bytes of a literal from r.
type literalReader struct {
	r io.Reader
	n int64
}

func (l *literalReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if err == io.EOF && l.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// drain reads what is left of the literal.
func (l *literalReader) drain() error {
	if l.n <= 0 {
		return nil
	}
	_, err := io.Copy(io.Discard, l)
	return err
}
