package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/urfave/cli/v2"
)

func archiveCatCommand() *cli.Command {
	return &cli.Command{
		Name:      "cat",
		Usage:     "write a message's exact bytes to stdout, named by its id or by folder and UID",
		ArgsUsage: "DIR ID",
		Description: "ID is the message's SHA-256 or a unique prefix of it (archive ls shows them). Instead of an ID,\n" +
			"--folder and --uid (--uidl for a POP3 export) name the message where the source had it, in the\n" +
			"account's latest complete snapshot or the one --snapshot names:\n" +
			"   mailferry archive cat DIR --folder INBOX --uid 42 [--account NAME] [--snapshot ID]",
		Flags: []cli.Flag{accountFlag, snapshotFlag,
			&cli.StringFlag{Name: "folder", Usage: "the message's folder, by its full `NAME` as archive ls prints it"},
			&cli.UintFlag{Name: "uid", Usage: "the message's IMAP `UID` in --folder (Maildir and mbox exports number messages from 1)"},
			&cli.StringFlag{Name: "uidl", Usage: "the message's POP3 `UIDL`, for a POP3 export (--folder may be left out)"},
		},
		Action: archiveCat,
	}
}

func archiveCat(c *cli.Context) error {
	key, byKey, err := catKey(c)
	if err != nil {
		return err
	}
	a, err := archive.Open(c.Args().First())
	if err != nil {
		return err
	}
	idx, problems, err := a.Index()
	if err != nil {
		return err
	}
	var id format.ID
	if byKey {
		id, err = messageByKey(c, a, key)
	} else {
		id, err = messageByPrefix(idx, c.Args().Get(1))
	}
	if err != nil {
		return err
	}
	r, err := a.NewReader(idx)
	if err != nil {
		return err
	}
	defer r.Close()
	rc, _, err := r.Open(id)
	if errors.Is(err, archive.ErrNotFound) && len(problems) > 0 {
		// The message may be in an index file that could not be read.
		return fmt.Errorf("%w; %d index files could not be read (run mailferry archive verify), the first: %v", err, len(problems), problems[0])
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(c.App.Writer, rc)
	return err
}

// catKey reads which message archive cat is to print: byKey says that the
// flags name it by folder and UID or UIDL rather than an ID argument.
func catKey(c *cli.Context) (key archive.MessageKey, byKey bool, err error) {
	usage := func(msg string) error {
		return cli.Exit("archive cat: "+msg+" (usage: mailferry archive cat DIR ID, or DIR --folder NAME --uid N)", exitStatusUsage)
	}
	byKey = c.IsSet("folder") || c.IsSet("uid") || c.IsSet("uidl")
	switch {
	case byKey && c.NArg() > 1:
		return key, byKey, usage("give a message ID or --folder and --uid, not both")
	case !byKey && (c.IsSet("account") || c.IsSet("snapshot")):
		return key, byKey, usage("--account and --snapshot choose where --folder and --uid look; an ID needs neither")
	case byKey && c.NArg() != 1, !byKey && c.NArg() != 2:
		return key, byKey, usage(fmt.Sprintf("%d arguments", c.NArg()))
	case !byKey:
		return key, byKey, nil
	}
	key = archive.MessageKey{Folder: c.String("folder"), UID: uint32(c.Uint("uid")), UIDL: c.String("uidl")}
	switch {
	case c.Uint("uid") > 1<<32-1:
		return key, byKey, usage(fmt.Sprintf("--uid %d is more than a UID can be", c.Uint("uid")))
	case c.IsSet("uid") && c.IsSet("uidl"):
		return key, byKey, usage("give --uid or --uidl, not both")
	case key.UIDL == "" && key.UID == 0:
		return key, byKey, usage("--uid wants a UID of 1 or more (or --uidl a POP3 UIDL)")
	case key.UIDL == "" && !c.IsSet("folder"):
		return key, byKey, usage("--uid needs --folder")
	}
	return key, byKey, nil
}

// messageByKey finds the message key names in the snapshot --account and
// --snapshot choose.
func messageByKey(c *cli.Context, a *archive.Archive, key archive.MessageKey) (format.ID, error) {
	snap, err := selectSnapshot(c, a)
	if err != nil {
		return format.ID{}, err
	}
	m, err := a.FindMessage(snap.ID, key)
	if err != nil {
		return format.ID{}, err
	}
	return m.ID, nil
}

// messageByPrefix finds the message a full id or a unique prefix of one
// names, as git does for commits.
func messageByPrefix(idx *archive.Index, arg string) (format.ID, error) {
	if id, err := format.ParseID(arg); err == nil {
		return id, nil
	}
	if len(arg) < 4 || strings.Trim(strings.ToLower(arg), "0123456789abcdef") != "" {
		return format.ID{}, cli.Exit(fmt.Sprintf("message %q: give its SHA-256 or a prefix of at least 4 hex digits (archive ls shows them)", arg), exitStatusUsage)
	}
	switch ids := idx.MessagesWithPrefix(arg, 2); len(ids) {
	case 0:
		return format.ID{}, fmt.Errorf("no message of the archive has an id starting %s", arg)
	case 1:
		return ids[0], nil
	default:
		return format.ID{}, cli.Exit(fmt.Sprintf("message %s: several messages have ids starting so (%s, %s, ...): give more digits", arg, ids[0].Short(), ids[1].Short()), exitStatusUsage)
	}
}
