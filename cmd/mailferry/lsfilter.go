package main

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"net/textproto"
	"strings"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/format"
	"github.com/urfave/cli/v2"
)

// lsFilter is what archive ls keeps.
type lsFilter struct {
	folders       export.FolderFilter // --folder: Include only
	from, subject string              // lower case
	since, before time.Time
}

func lsFilterFrom(c *cli.Context) (lsFilter, error) {
	var f lsFilter
	var err error
	if f.folders.Include, err = regexps("folder", c.StringSlice("folder")); err != nil {
		return f, err
	}
	f.from, f.subject = strings.ToLower(c.String("from")), strings.ToLower(c.String("subject"))
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.since}, {"before", &f.before}} {
		if v := c.String(d.name); v != "" {
			if *d.t, err = time.ParseInLocation("2006-01-02", v, time.Local); err != nil {
				return f, cli.Exit(fmt.Sprintf("--%s %q: want a date as 2024-01-31", d.name, v), exitStatusUsage)
			}
		}
	}
	return f, nil
}

// keeps judges what the snapshot says of a message.
func (f lsFilter) keeps(m *format.Message) bool {
	return f.folders.Match(m.Folder) && (f.since.IsZero() || !m.InternalDate.Before(f.since)) && (f.before.IsZero() || m.InternalDate.Before(f.before))
}

// matches judges what the headers say.
func (f lsFilter) matches(from, subject string) bool {
	return strings.Contains(strings.ToLower(from), f.from) && strings.Contains(strings.ToLower(subject), f.subject)
}

// headerSummary reads a stored message's From: and Subject: from its
// header chunk, encoded words decoded; "" for what cannot be read.
func headerSummary(rd *archive.Reader, id format.ID) (from, subject string) {
	hdr, err := rd.Header(id)
	if err != nil {
		return "", ""
	}
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(hdr))).ReadMIMEHeader()
	dec := new(mime.WordDecoder)
	decode := func(v string) string {
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	return decode(h.Get("From")), decode(h.Get("Subject"))
}
