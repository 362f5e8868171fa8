package maildir

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// A message file in cur/ is named "<unique>:2,<flags>": the flags are letters
// in ASCII order, uppercase for the flags Maildir defines, lowercase for
// keywords numbered in the folder's dovecot-keywords file. Files in new/ have
// not been seen by a mail client and carry no flags.
const infoPrefix = ":2,"

// Maildir's flag letters and the IMAP flags they stand for.
var letterFlags = map[byte]string{
	'D': format.FlagDraft,
	'F': format.FlagFlagged,
	'P': format.FlagForwarded, // "passed"; Dovecot ignores it (see infoLetters)
	'R': format.FlagAnswered,
	'S': format.FlagSeen,
	'T': format.FlagDeleted, // "trashed"
}

// flagLetters maps back from IMAP flags to letterFlags' letters.
var flagLetters = func() map[string]byte {
	m := make(map[string]byte, len(letterFlags))
	for c, f := range letterFlags {
		m[f] = c
	}
	return m
}()

// parseInfo returns the flags in file name name, looking keyword letters up
// in kw. Letters nobody defined (an uppercase letter Maildir does not know, a
// keyword letter missing from dovecot-keywords) carry no flag mailferry could
// name, and are left out, as Dovecot does.
func parseInfo(name string, kw *keywords) format.Flags {
	i := strings.LastIndex(name, infoPrefix)
	if i < 0 {
		return format.Flags{}
	}
	var flags []string
	for _, c := range []byte(name[i+len(infoPrefix):]) {
		switch {
		case letterFlags[c] != "":
			flags = append(flags, letterFlags[c])
		case 'a' <= c && c <= 'z':
			if k := kw.name(int(c - 'a')); k != "" {
				flags = append(flags, k)
			}
		}
	}
	return format.NormalizeFlags(flags)
}

// uniquePart is a file name without its info: what stays the same when a mail
// client moves the file from new/ to cur/ or changes its flags.
func uniquePart(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

// uniqueName returns "<seconds>.M<micro>P<pid>Q<counter>.<host>", the unique
// part Dovecot writes.
func uniqueName(sec, usec int64, pid, counter int, host string) string {
	return strconv.FormatInt(sec, 10) + ".M" + strconv.FormatInt(usec, 10) +
		"P" + strconv.Itoa(pid) + "Q" + strconv.Itoa(counter) + "." + host
}

// safeHost returns the host name as the Maildir spec wants it in file names:
// "/" and ":" would break the name, so they become \057 and \072.
func safeHost(h string) string {
	if h == "" {
		h = "localhost"
	}
	return strings.NewReplacer("/", `\057`, ":", `\072`).Replace(h)
}

// infoLetters returns the info letters for flags, assigning keyword letters
// through kw (which may grow). \Recent is never stored.
func infoLetters(flags format.Flags, kw *keywords) (string, error) {
	var letters []byte
	for _, f := range format.NormalizeFlags(flags) {
		if f == format.FlagForwarded {
			// Maildir readers such as mutt know P; Dovecot shows only
			// keywords, and keeps $Forwarded as one. Both, then; P alone
			// when the keyword letters are all taken, as it holds the flag.
			letters = append(letters, 'P')
			if i, err := kw.index(f); err == nil {
				letters = append(letters, byte('a'+i))
			} else if !errors.Is(err, ErrTooManyKeywords) {
				return "", err
			}
			continue
		}
		letter, ok := flagLetters[f]
		if !ok {
			if strings.HasPrefix(f, `\`) {
				return "", fmt.Errorf("system flag %q has no Maildir letter: %w", f, ErrFlag)
			}
			i, err := kw.index(f)
			if err != nil {
				return "", err
			}
			letter = byte('a' + i)
		}
		letters = append(letters, letter)
	}
	slices.Sort(letters)
	return string(slices.Compact(letters)), nil
}
