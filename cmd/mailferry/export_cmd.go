package main

import (
	"encoding/json"
	"fmt"
	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/progress"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/urfave/cli/v2"
)

func exportCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "from", Usage: "the `SOURCE` to read (see above)", Required: true},
		&cli.StringFlag{Name: "archive", Usage: "archive `DIR` (created if missing)", Required: true},
		&cli.StringFlag{Name: "account", Usage: "record the snapshot under account `NAME` (default: USER@HOST, or the store's path)"},
		&cli.IntFlag{Name: "connections", Value: 4, Usage: "download over `N` IMAP connections at once"},
		&cli.StringSliceFlag{Name: "include", Usage: "export only folders whose UTF-8 name matches `REGEX` (repeatable; imapsync --include)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip folders whose UTF-8 name matches `REGEX` (repeatable; imapsync --exclude)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "list folders with message counts and sizes (and how many are new); store nothing"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		&cli.BoolFlag{Name: "delete-after-export", Usage: "POP3 only: delete each message from the server once the archive has committed it and read it back intact (the only way mailferry ever changes a source)"},
		&cli.StringFlag{Name: "compression", Usage: "zstd effort: `fast` (the default from IMAP and POP3: keeps pace with a fast server; the archive is about 15% larger) or better (the default from Maildir and mbox)"},
		&cli.DurationFlag{Name: "checkpoint-every", Value: export.DefaultCheckpointEvery, Usage: "make progress durable this often, so that a killed export resumes from there"},
	}
	return &cli.Command{
		Name:  "export",
		Usage: "copy a mailbox into an archive, as a new snapshot of its account",
		Description: "SOURCE is one of:\n" +
			"   imap://USER@HOST[:PORT]   IMAP, with STARTTLS when the server offers it (plaintext only to loopback\n" +
			"                             or with --allow-plaintext)\n" +
			"   imaps://USER@HOST[:PORT]  IMAP over TLS\n" +
			"   pop3://USER@HOST[:PORT]   POP3, with STLS when offered; pop3s:// for implicit TLS. Messages go to\n" +
			"                             folder INBOX; re-runs fetch only new UIDLs\n" +
			"   maildir:PATH              a Maildir++ tree (Dovecot, Courier layout; dovecot-keywords for custom keywords)\n" +
			"   mbox:PATH                 an mbox file or a directory of them (Status/X-Status/X-Keywords become flags)\n" +
			"Messages the archive already holds are not downloaded or stored again. The source is never changed.\n" +
			"Exit status: 0 all exported, 3 some messages could not be exported (listed), 130 interrupted (run the\n" +
			"same command again to resume), 1 other errors.",
		Flags:  append(flags, connFlags()...),
		Action: runExport,
	}
}

func openLocalStore(spec string) (export.LocalStore, error) {
	kind, path, ok := strings.Cut(spec, ":")
	if !ok || path == "" {
		return nil, cli.Exit(fmt.Sprintf("--from %q: want imap://USER@HOST, imaps://USER@HOST, maildir:PATH or mbox:PATH", spec), 2)
	}
	switch kind {
	case "maildir":
		return export.OpenMaildir(path)
	case "mbox":
		return export.OpenMbox(path)
	}
	return nil, cli.Exit(fmt.Sprintf("--from %q: unknown source kind %q (want imap://, imaps://, maildir: or mbox:)", spec, kind), 2)
}

func folderFilter(c *cli.Context) (export.FolderFilter, error) {
	var ff export.FolderFilter
	for _, spec := range []struct {
		name string
		dst  *[]*regexp.Regexp
	}{{"include", &ff.Include}, {"exclude", &ff.Exclude}} {
		for _, s := range c.StringSlice(spec.name) {
			re, err := regexp.Compile(s)
			if err != nil {
				return ff, cli.Exit(fmt.Sprintf("--%s %q: %v", spec.name, s, err), 2)
			}
			*spec.dst = append(*spec.dst, re)
		}
	}
	return ff, nil
}

func runExport(c *cli.Context) error {
	from := c.String("from")
	if strings.HasPrefix(from, "imap://") || strings.HasPrefix(from, "imaps://") {
		return runIMAPExport(c, from)
	}
	if strings.HasPrefix(from, "pop3://") || strings.HasPrefix(from, "pop3s://") {
		return runPOP3Export(c, from)
	}
	store, err := openLocalStore(from)
	if err != nil {
		return err
	}
	a, err := archive.OpenOrCreate(c.String("archive"))
	if err != nil {
		return err
	}
	wo, err := writerOptions(c, false)
	if err != nil {
		return err
	}
	rep, err := export.Local(c.Context, a, store, export.Options{Account: c.String("account"), Tool: toolVersion(), Writer: wo})
	return finishExport(c, rep, err)
}

func runIMAPExport(c *cli.Context, from string) error {
	dialer, ep, base, err := serverExport(c, from)
	if err != nil {
		return err
	}
	filter, err := folderFilter(c)
	if err != nil {
		return err
	}
	opts := export.IMAPOptions{
		Options:     base,
		Endpoint:    ep.String(),
		Dial:        dialer.Dial,
		Connections: c.Int("connections"),
		Filter:      filter,
		Progress:    new(progress.Progress),
	}
	if t := throttleFrom(c); t != nil {
		opts.Throttle = t
	}
	if c.Bool("dry-run") {
		var a *archive.Archive
		if _, err := os.Stat(c.String("archive")); err == nil {
			if a, err = archive.Open(c.String("archive")); err != nil {
				return err
			}
		}
		plans, err := export.IMAPDryRun(c.Context, a, opts)
		if err != nil {
			return err
		}
		return printPlans(c, plans)
	}
	a, err := archive.OpenOrCreate(c.String("archive"))
	if err != nil {
		return err
	}
	rep, err := withProgress(c, opts.Progress, func() (*export.Report, error) { return export.IMAP(c.Context, a, opts) })
	return finishExport(c, rep, err)
}

func printPlans(c *cli.Context, plans []export.FolderPlan) error {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(plans)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FOLDER\tMESSAGES\tSIZE\tNEW\tNEW SIZE\tNOTE")
	var n, nn int
	var b, nb int64
	for _, p := range plans {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\n", p.Folder, p.Messages, bytesHuman(p.Bytes), p.New, bytesHuman(p.NewBytes), p.Note)
		n, nn, b, nb = n+p.Messages, nn+p.New, b+p.Bytes, nb+p.NewBytes
	}
	fmt.Fprintf(w, "total\t%d\t%s\t%d\t%s\t(dry run: nothing stored)\n", n, bytesHuman(b), nn, bytesHuman(nb))
	return w.Flush()
}

// finishExport prints the report and turns the outcome into the exit status.
func finishExport(c *cli.Context, rep *export.Report, err error) error {
	if rep != nil {
		printExportReport(c, rep)
	}
	var failed int
	if rep != nil {
		failed = len(rep.Failures)
	}
	return exitStatus(err, "what was stored is kept; run the same command again to resume", "export", failed, "messages or folders")
}

func printExportReport(c *cli.Context, rep *export.Report) {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(c.App.ErrWriter, "FAILED: folder %q %s: %s\n", f.Folder, f.Item, f.Error)
	}
	fmt.Fprintf(c.App.Writer, "exported %s: %d folders, %d messages, %s; %d new messages stored in %s; snapshot %s (%s)\n",
		rep.Account, rep.Folders, rep.Messages, bytesHuman(rep.Bytes), rep.NewMessages, bytesHuman(rep.NewBytes),
		rep.Snapshot.Short(), rep.Duration.Round(1e6))
}

// writerOptions turns --compression into archive writer settings. From a
// server the default is fast: measured on 20,000 messages from a loopback
// Dovecot (bench/imap-export.sh), "better" held the export to about 1,600
// messages/s on two cores, compression taking half the CPU, where "fast"
// reached 2,600-3,100. From a server, frames are 1 MiB whatever the level:
// with 4 MiB ones in flight, "better" peaked at 107 MiB RSS.
func writerOptions(c *cli.Context, server bool) (archive.WriterOptions, error) {
	level := c.String("compression")
	var wo archive.WriterOptions
	if server {
		wo.FrameSize = 1 << 20
		if level == "" {
			level = "fast"
		}
	}
	switch level {
	case "better", "":
		wo.Level = zstd.SpeedBetterCompression
	case "fast":
		wo.Level, wo.FrameSize = zstd.SpeedFastest, 1<<20
	default:
		return wo, cli.Exit(fmt.Sprintf("--compression %q: want fast or better", level), 2)
	}
	return wo, nil
}

func runPOP3Export(c *cli.Context, from string) error {
	dialer, ep, base, err := serverExport(c, from)
	if err != nil {
		return err
	}
	opts := export.POP3Options{
		Options:           base,
		Endpoint:          ep.String(),
		Dial:              dialer.DialPOP3,
		Progress:          new(progress.Progress),
		DeleteAfterExport: c.Bool("delete-after-export"),
	}
	if t := throttleFrom(c); t != nil {
		opts.Throttle = t
	}
	a, err := archive.OpenOrCreate(c.String("archive"))
	if err != nil {
		return err
	}
	rep, err := withProgress(c, opts.Progress, func() (*export.Report, error) { return export.POP3(c.Context, a, opts) })
	return finishExport(c, rep, err)
}

// serverExport reads the options every server export shares: the
// endpoint and its dialer, the account (USER@HOST unless --account), the
// checkpoint interval and the compression.
func serverExport(c *cli.Context, from string) (*mailconn.Dialer, mailconn.Endpoint, export.Options, error) {
	dialer, ep, err := dialerFor(c, from)
	if err != nil {
		return nil, ep, export.Options{}, err
	}
	wo, err := writerOptions(c, true)
	if err != nil {
		return nil, ep, export.Options{}, err
	}
	account := c.String("account")
	if account == "" {
		account = ep.Account()
	}
	return dialer, ep, export.Options{Account: account, Tool: toolVersion(), CheckpointEvery: c.Duration("checkpoint-every"), Writer: wo}, nil
}
