package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"
)

// logFileFlag keeps a run's log in a file as well (JSON lines, appended).
var logFileFlag = &cli.StringFlag{Name: "log-file", Usage: "also append the log, as JSON lines at debug level, to `FILE` (0600)"}

// setUpLogging sends the log to stderr (text, at info level unless
// --verbose) and, with --log-file, to the file (JSON, every level). The
// returned io.Closer closes the file.
func setUpLogging(c *cli.Context, stderr io.Writer) (io.Closer, error) {
	level := slog.LevelInfo
	if c.Bool("verbose") {
		level = slog.LevelDebug
	}
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	var closer io.Closer = io.NopCloser(nil)
	if path := c.String("log-file"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("--log-file: %v", err), exitStatusUsage)
		}
		h = fanOut{h, slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})}
		closer = f
	}
	slog.SetDefault(slog.New(h))
	// Secrets never come in argv, so the command line can be logged.
	slog.Debug("mailferry started", "version", versionLine(), "args", c.Args().Slice())
	return closer, nil
}

// fanOut hands each record to every handler that wants it.
type fanOut []slog.Handler

func (f fanOut) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanOut) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanOut) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanOut, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanOut) WithGroup(name string) slog.Handler {
	out := make(fanOut, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
