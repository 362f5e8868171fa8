package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/mailferry/mailferry/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/mailferry/mailferry/internal/atomicfile"
)

// Dovecot keeps subscriptions in the file "subscriptions" in the root, one
// folder per line, as its storage names: modified UTF-7 levels. Version 1
// joins the levels with the Maildir++ separator ".". Version 2 (Dovecot 2.3
// reads it, and keeps writing it once a file has it) starts with "V\t2\n\n"
// and joins the levels with TAB, TAB-escaping each level so that it may hold
// any character. Courier keeps "courierimapsubscribed" with names such as
// "INBOX.Sent"; it is read when there is no Dovecot file.
const (
	subscriptionsFile        = "subscriptions"
	courierSubscriptionsFile = "courierimapsubscribed"
	subscriptionsV2Header    = "V\t2\n\n"
)

// Dovecot's TAB escaping: \001 followed by a letter stands for a character
// that would otherwise end a level or a line.
var (
	tabEscaper   = strings.NewReplacer("\x01", "\x011", "\t", "\x01t", "\r", "\x01r", "\n", "\x01n")
	tabUnescaper = strings.NewReplacer("\x011", "\x01", "\x01t", "\t", "\x01r", "\r", "\x01n", "\n")
)

// Subscriptions returns the subscribed folder names (UTF-8, levels joined by
// ".") in the order of the file, from Dovecot's subscriptions file in either
// version or, failing that, Courier's. Each level is decoded from modified
// UTF-7 when it is valid modified UTF-7 and taken as written otherwise, since
// Dovecot with the UTF-8 option writes UTF-8 there; entries that are neither
// (not UTF-8) are left out, as Dovecot drops them too. Names of folders that
// do not exist are kept: a subscription may outlive its folder.
func (s *Store) Subscriptions() ([]string, error) {
	path := filepath.Join(s.root, subscriptionsFile)
	courier := false
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		path, courier = filepath.Join(s.root, courierSubscriptionsFile), true
		f, err = os.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	defer f.Close()

	var names []string
	seen := make(map[string]bool)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	version := 1
	for first := true; sc.Scan(); first = false {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if first && line == "V\t2" {
			version = 2
			continue
		}
		if line == "" {
			continue
		}
		var levels []string
		if version == 2 {
			levels = strings.Split(line, "\t")
			for i, l := range levels {
				levels[i] = tabUnescaper.Replace(l)
			}
		} else {
			// Old Dovecots and other software wrote a trailing separator.
			levels = strings.Split(strings.TrimSuffix(line, Delimiter), Delimiter)
		}
		if courier {
			if strings.EqualFold(levels[0], inbox) && len(levels) > 1 {
				levels = levels[1:]
			}
		}
		name, ok := subscriptionName(levels)
		if ok && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	return names, nil
}

func subscriptionName(levels []string) (string, bool) {
	for i, l := range levels {
		if d, err := format.DecodeMUTF7(l); err == nil {
			l = d
		} else if !utf8.ValidString(l) {
			return "", false
		}
		levels[i] = l
	}
	name := strings.Join(levels, Delimiter)
	if strings.EqualFold(name, inbox) {
		name = inbox
	}
	return name, name != ""
}

func (s *Store) subscribed() (map[string]bool, error) {
	names, err := s.Subscriptions()
	if err != nil {
		return nil, err
	}
	subs := make(map[string]bool, len(names))
	for _, n := range names {
		subs[n] = true
	}
	return subs, nil
}

// SetSubscriptions replaces the subscriptions file with names (folder names
// as Folders returns them), in version 2 with modified UTF-7 levels, which is
// what Dovecot 2.3 keeps once a file has the version 2 header. The file is
// replaced through a temporary file and a rename.
func (s *Store) SetSubscriptions(names []string) error {
	var b strings.Builder
	b.WriteString(subscriptionsV2Header)
	for _, n := range names {
		if !utf8.ValidString(n) || n == "" {
			return fmt.Errorf("set subscriptions: folder %q: %w", n, ErrFolderName)
		}
		if strings.EqualFold(n, inbox) {
			n = inbox
		}
		for i, l := range strings.Split(n, Delimiter) {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tabEscaper.Replace(format.EncodeMUTF7(l)))
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(s.root, subscriptionsFile)
	if err := atomicfile.Write(path, filepath.Join(s.root, "tmp"), []byte(b.String())); err != nil {
		return fmt.Errorf("set subscriptions: %w", err)
	}
	return nil
}
