package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mailferry/mailferry/internal/atomicfile"
)

// keywordsFile is Dovecot's per-folder list of keyword letters: lines
// "<index> <keyword>", index 0 being letter a. Courier keeps keywords in
// courierimapkeywords/ instead; those are not read.
const keywordsFile = "dovecot-keywords"

// maxKeywords is the number of lowercase letters a file name can carry.
const maxKeywords = 26

// keywords is one folder's keyword letters.
type keywords struct {
	names [maxKeywords]string
	dirty bool // changed since read; write before delivering a file that uses it
}

// readKeywords reads the dovecot-keywords file in folder directory dir. A
// missing file is an empty table; lines Dovecot would not understand either
// are skipped, as Dovecot does.
func readKeywords(dir string) (*keywords, error) {
	kw := new(keywords)
	path := filepath.Join(dir, keywordsFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return kw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keywords: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		num, name, ok := strings.Cut(sc.Text(), " ")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || i >= maxKeywords || name == "" {
			continue
		}
		kw.names[i] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	return kw, nil
}

// name returns the keyword of index i, or "".
func (kw *keywords) name(i int) string {
	if kw == nil || i < 0 || i >= maxKeywords {
		return ""
	}
	return kw.names[i]
}

// index returns the index of keyword k, giving it the first free one if it
// has none yet.
func (kw *keywords) index(k string) (int, error) {
	if strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return 0, fmt.Errorf("keyword %q contains a space or control character: %w", k, ErrFlag)
	}
	free := -1
	for i, n := range kw.names {
		if n == k {
			return i, nil
		}
		if n == "" && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return 0, fmt.Errorf("keyword %q: %w", k, ErrTooManyKeywords)
	}
	kw.names[free] = k
	kw.dirty = true
	return free, nil
}

// write replaces the dovecot-keywords file in folder directory dir, through a
// file in its tmp/ and a rename, so a reader never sees half a file.
func (kw *keywords) write(dir string) error {
	var b strings.Builder
	for i, n := range kw.names {
		if n != "" {
			fmt.Fprintf(&b, "%d %s\n", i, n)
		}
	}
	path := filepath.Join(dir, keywordsFile)
	if err := atomicfile.Write(path, filepath.Join(dir, "tmp"), []byte(b.String())); err != nil {
		return err
	}
	kw.dirty = false
	return nil
}
