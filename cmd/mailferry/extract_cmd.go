package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/local"
	"github.com/urfave/cli/v2"
)

func extractCommand() *cli.Command {
	return &cli.Command{
		Name:      "extract",
		Usage:     "write a snapshot back out as Maildir, mbox or .eml files",
		ArgsUsage: "DIR",
		Description: "TARGET is one of:\n" +
			"   maildir:PATH  Maildir++ (flag letters, dovecot-keywords, mtime = internal date), for Dovecot, mutt\n" +
			"   mbox:PATH     a directory of mbox files (mboxrd; Status/X-Status/X-Keywords), for mutt, Thunderbird\n" +
			"   eml:PATH      one .eml file per message, a directory per folder",
		Flags: []cli.Flag{accountFlag, snapshotFlag,
			&cli.StringFlag{Name: "to", Usage: "the `TARGET` to write (see above); it must not hold mail already", Required: true},
			&cli.StringSliceFlag{Name: "include", Usage: "only folders whose name matches `REGEX` (repeatable)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "not the folders whose name matches `REGEX` (repeatable)"},
			&cli.StringSliceFlag{Name: "id", Usage: "only the message whose id starts with `PREFIX` (repeatable; archive ls shows the ids)"},
		},
		Action: runExtract,
	}
}

func openLocalTarget(spec string) (local.Target, error) {
	kind, path, ok := strings.Cut(spec, ":")
	path = expandHome(path)
	if !ok || path == "" {
		return nil, cli.Exit(fmt.Sprintf("--to %q: want maildir:PATH, mbox:PATH or eml:PATH", spec), 2)
	}
	// Refused before anything is written: extracting on top of mail
	// would mix two copies, or fail message by message.
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return nil, cli.Exit(fmt.Sprintf("--to %s: %s holds files already; extract into a new or empty directory", spec, path), exitStatusUsage)
	}
	switch kind {
	case "maildir":
		return local.NewMaildir(path)
	case "mbox":
		return local.NewMbox(path)
	case "eml":
		return local.NewEML(path)
	}
	return nil, cli.Exit(fmt.Sprintf("--to %q: unknown target kind %q", spec, kind), 2)
}

func runExtract(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	lock, err := a.LockShared("extract")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	snap, err := selectSnapshot(c, a)
	if err != nil {
		return err
	}
	sel, err := extractSelection(c)
	if err != nil {
		return err
	}
	t, err := openLocalTarget(c.String("to"))
	if err != nil {
		return err
	}
	rep, err := local.Extract(c.Context, a, snap.ID, t, sel)
	if rep != nil {
		for _, f := range rep.Failures {
			fmt.Fprintln(c.App.ErrWriter, "FAILED:", f)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "extracted snapshot %s of %s: %d folders, %d messages, %s (%s)\n",
		snap.ID.Short(), format.QuoteName(snap.Account), rep.Folders, rep.Messages, bytesHuman(rep.Bytes), rep.Duration.Round(1e6))
	if len(rep.Failures) > 0 {
		return cli.Exit(fmt.Sprintf("extract incomplete: %d messages failed", len(rep.Failures)), 3)
	}
	return nil
}

// extractSelection is what --include, --exclude and --id keep.
func extractSelection(c *cli.Context) (local.Selection, error) {
	var sel local.Selection
	ff, err := folderFilter(c, nil)
	if err != nil {
		return sel, err
	}
	if len(ff.Include)+len(ff.Exclude) > 0 {
		sel.Folder = ff.Match
	}
	var ids []string
	for _, p := range c.StringSlice("id") {
		p = strings.ToLower(p)
		if len(p) < 4 || strings.Trim(p, "0123456789abcdef") != "" {
			return sel, cli.Exit(fmt.Sprintf("--id %q: give a message id or a prefix of at least 4 hex digits", p), exitStatusUsage)
		}
		ids = append(ids, p)
	}
	if len(ids) > 0 {
		sel.Message = func(m format.Message) bool {
			for _, p := range ids {
				if strings.HasPrefix(m.ID.String(), p) {
					return true
				}
			}
			return false
		}
	}
	return sel, nil
}
