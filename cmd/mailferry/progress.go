package main

import (
	"fmt"
	"github.com/mailferry/mailferry/internal/progress"
	"github.com/urfave/cli/v2"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mailferry/mailferry/export"
	"golang.org/x/term"
)

// showProgress draws the export's progress until stop is closed: a live
// line on a terminal, a log line every 10 seconds otherwise.
func showProgress(p *progress.Progress, out io.Writer, stop <-chan struct{}) {
	f, isFile := out.(*os.File)
	live := isFile && term.IsTerminal(int(f.Fd()))
	every := 10 * time.Second
	if live {
		every = 500 * time.Millisecond
	}
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			if live {
				fmt.Fprint(out, "\r\033[K")
			}
			return
		case <-tick.C:
		}
		done, total := p.MessagesDone.Load(), p.MessagesTotal.Load()
		bytes, bytesTotal := p.BytesDone.Load(), p.BytesTotal.Load()
		elapsed := time.Since(start)
		rate := float64(bytes) / elapsed.Seconds()
		eta := "?"
		if done > 0 && total > done {
			eta = (time.Duration(float64(elapsed) * float64(total-done) / float64(done))).Round(time.Second).String()
		}
		var folders []string
		for i, fp := range p.Folders() {
			if i == 3 {
				folders = append(folders, "…")
				break
			}
			folders = append(folders, fmt.Sprintf("%s %d/%d", fp.Name, fp.Done, fp.Messages))
		}
		if live {
			line := fmt.Sprintf("%d/%d messages, %s/%s, %s/s, %d failed, ETA %s  %s", done, total, bytesHuman(bytes), bytesHuman(bytesTotal),
				bytesHuman(int64(rate)), p.Failures.Load(), eta, strings.Join(folders, ", "))
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 10 && len(line) > w-1 {
				line = line[:w-1]
			}
			fmt.Fprint(out, "\r\033[K"+line)
		} else {
			slog.Info("progress", "messages", done, "of", total, "bytes", bytes, "bytes_total", bytesTotal,
				"rate_bytes_per_s", int64(rate), "failed", p.Failures.Load(), "eta", eta)
		}
	}
}

// withProgress runs an export while its progress is shown.
func withProgress(c *cli.Context, p *progress.Progress, run func() (*export.Report, error)) (*export.Report, error) {
	var rep *export.Report
	err := runWithProgress(c, p, func() error {
		var err error
		rep, err = run()
		return err
	})
	return rep, err
}

// runWithProgress runs a job while its progress is shown.
func runWithProgress(c *cli.Context, p *progress.Progress, run func() error) error {
	stop := make(chan struct{})
	shown := make(chan struct{})
	go func() {
		showProgress(p, c.App.ErrWriter, stop)
		close(shown)
	}()
	err := run()
	close(stop)
	<-shown
	return err
}
