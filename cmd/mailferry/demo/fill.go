package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry"
	"github.com/mailferry/mailferry/internal/mbox"
)

// fill appends the sample mail to the account on c: the mbox folders with
// their flags and dates, and the odd messages into a folder of their own.
// It returns the number of messages appended.
func fill(c *imapclient.Client) (int, error) {
	n := 0
	for _, f := range []struct{ file, folder string }{
		{"testdata/mbox/INBOX", "INBOX"},
		{"testdata/mbox/Sent", "Sent"},
		{"testdata/mbox/Archive.sbd/2023", "Archive/2023"},
	} {
		if f.folder != "INBOX" {
			if err := c.Create(f.folder, nil).Wait(); err != nil {
				return n, fmt.Errorf("CREATE %s: %w", f.folder, err)
			}
			c.Subscribe(f.folder).Wait()
		}
		file, err := mailferry.SampleMail.Open(f.file)
		if err != nil {
			return n, err
		}
		r := mbox.NewReader(file)
		for {
			m, body, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				file.Close()
				return n, fmt.Errorf("%s: %w", f.file, err)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				file.Close()
				return n, err
			}
			if err := appendMessage(c, f.folder, crlf(b), m.Flags, m.FromLineDate); err != nil {
				file.Close()
				return n, err
			}
			n++
		}
		file.Close()
	}
	if err := c.Create("Odd Messages", nil).Wait(); err != nil {
		return n, err
	}
	files, err := fs.Glob(mailferry.SampleMail, "testdata/corpus/*.eml")
	if err != nil {
		return n, err
	}
	for i, name := range files {
		b, err := fs.ReadFile(mailferry.SampleMail, name)
		if err != nil {
			return n, err
		}
		flags := []string{`\Seen`}
		if strings.Contains(path.Base(name), "draft") {
			flags = []string{`\Draft`}
		}
		date := time.Date(2024, 3, 1+i, 9, 30, 0, 0, time.FixedZone("", 3600))
		if err := appendMessage(c, "Odd Messages", crlf(b), flags, date); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func appendMessage(c *imapclient.Client, folder string, b []byte, flags []string, date time.Time) error {
	var fl []imap.Flag
	for _, f := range flags {
		fl = append(fl, imap.Flag(f))
	}
	cmd := c.Append(folder, int64(len(b)), &imap.AppendOptions{Flags: fl, Time: date})
	if _, err := cmd.Write(b); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// crlf gives mbox's LF lines the CRLF ends IMAP servers serve.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
