package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/urfave/cli/v2"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "copy a mailbox into an archive, as a new snapshot of its account",
		Description: "SOURCE is one of:\n" +
			"   maildir:PATH   a Maildir++ tree (Dovecot, Courier layout; dovecot-keywords for custom keywords)\n" +
			"   mbox:PATH      an mbox file or a directory of them (Status/X-Status/X-Keywords become flags)\n" +
			"Messages the archive already holds are not stored again.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "the `SOURCE` to read (see above)", Required: true},
			&cli.StringFlag{Name: "archive", Usage: "archive `DIR` (created if missing)", Required: true},
			&cli.StringFlag{Name: "account", Usage: "record the snapshot under account `NAME` (default: USER@HOST, or the store's path)"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		},
		Action: runExport,
	}
}

func openLocalStore(spec string) (export.LocalStore, error) {
	kind, path, ok := strings.Cut(spec, ":")
	if !ok || path == "" {
		return nil, cli.Exit(fmt.Sprintf("--from %q: want maildir:PATH or mbox:PATH", spec), 2)
	}
	switch kind {
	case "maildir":
		return export.OpenMaildir(path)
	case "mbox":
		return export.OpenMbox(path)
	}
	return nil, cli.Exit(fmt.Sprintf("--from %q: unknown source kind %q (want maildir: or mbox:)", spec, kind), 2)
}

func runExport(c *cli.Context) error {
	store, err := openLocalStore(c.String("from"))
	if err != nil {
		return err
	}
	a, err := archive.OpenOrCreate(c.String("archive"))
	if err != nil {
		return err
	}
	rep, err := export.Local(c.Context, a, store, export.Options{Account: c.String("account"), Tool: toolVersion()})
	if rep != nil {
		printExportReport(c, rep)
	}
	if err != nil {
		return err
	}
	if !rep.Complete() {
		return cli.Exit(fmt.Sprintf("export incomplete: %d messages or folders failed", len(rep.Failures)), 3)
	}
	return nil
}

func printExportReport(c *cli.Context, rep *export.Report) {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(c.App.ErrWriter, "FAILED: folder %q %s: %s\n", f.Folder, f.Item, f.Error)
	}
	fmt.Fprintf(c.App.Writer, "exported %s: %d folders, %d messages, %s; %d new messages stored in %s; snapshot %s (%s)\n",
		rep.Account, rep.Folders, rep.Messages, bytesHuman(rep.Bytes), rep.NewMessages, bytesHuman(rep.NewBytes),
		rep.Snapshot.Short(), rep.Duration.Round(1e6))
}
