package main

import (
	"errors"
	"fmt"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/importer"
	"github.com/urfave/cli/v2"
)

// Exit statuses of verify: 0 identical, 1 different, 2 usage, and this
// one when the check could not be made (connection, archive, manifest).
const exitNotChecked = 4

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check that a destination holds what was imported into it, byte for byte",
		Description: "Reads the destination's manifest (what the last import of the account sent where: folder, UID,\n" +
			"the SHA-256 of the bytes sent, flags, or why a message was skipped), so no import option needs\n" +
			"repeating. Every message is fetched and its SHA-256 compared with what was sent; --quick compares\n" +
			"UID, size, flags and date only. MISSING, CHANGED (with what changed: line endings, headers, body),\n" +
			"EXTRA and SKIPPED messages are listed. Nothing is changed.\n" +
			"Exit status: 0 identical, 1 different, 2 usage, 4 could not check, 130 interrupted.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "archive", Usage: "archive `DIR` the import read", Required: true},
			&cli.StringFlag{Name: "to", Usage: "destination `URL`: imap://USER@HOST[:PORT] or imaps://…"},
			&cli.StringFlag{Name: "manifest", Usage: "the import's manifest `FILE` (default: the destination's, inside the archive directory)"},
			accountFlag, snapshotFlag,
			&cli.BoolFlag{Name: "quick", Usage: "compare UID, size, flags and date only, not the bytes"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			reportFlag,
		}, append(accountsFlags(), connFlags()...)...),
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	switch {
	case c.String("accounts") != "":
		return verifyAccounts(c)
	case c.String("to") == "":
		return cli.Exit("--to URL names the destination to check (or --accounts FILE those of many accounts)", exitStatusUsage)
	}
	rep, err := verify(c)
	if errors.Is(err, errStopped) {
		return exitStatus(err, "nothing was changed; run it again", "verify", 0, "")
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return err
	}
	if err != nil {
		return cli.Exit("verify could not check: "+err.Error(), exitNotChecked)
	}
	if c.Bool("json") {
		printJSON(c, rep)
	} else {
		printVerifyReport(c, rep)
	}
	if err := writeReport(c, rep); err != nil {
		return cli.Exit(err.Error(), exitNotChecked)
	}
	if !rep.OK() {
		return cli.Exit(fmt.Sprintf("%s differs from snapshot %s", rep.Destination, rep.Snapshot[:12]), 1)
	}
	return nil
}

func verify(c *cli.Context) (*importer.VerifyReport, error) {
	a, err := archive.Open(c.String("archive"))
	if err != nil {
		return nil, err
	}
	dialer, ep, err := dialerFor(c, c.String("to"))
	if err != nil {
		return nil, err
	}
	m, err := openManifest(c, a, ep)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	opts := importer.VerifyOptions{Dial: dialer.Dial, Destination: ep.String(), Manifest: m, Account: c.String("account"), Quick: c.Bool("quick")}
	if c.IsSet("snapshot") {
		snap, err := selectSnapshot(c, a)
		if err != nil {
			return nil, err
		}
		opts.Snapshot, opts.Account = snap.ID, snap.Account
	}
	return importer.VerifyIMAP(c.Context, a, opts)
}

func printVerifyReport(c *cli.Context, rep *importer.VerifyReport) {
	w := c.App.Writer
	mode := "bytes, flags and dates"
	if rep.Quick {
		mode = "UIDs, sizes, flags and dates (--quick)"
	}
	fmt.Fprintf(w, "verifying %s against snapshot %s of %s: %s\n", rep.Destination, rep.Snapshot[:12], rep.Account, mode)
	for _, f := range rep.Folders {
		fmt.Fprintf(w, "%-30s expected %d, verified %d, found %d", f.Folder, f.Expected, f.Verified, f.Found)
		if len(f.Skipped) > 0 {
			fmt.Fprintf(w, ", skipped %d", len(f.Skipped))
		}
		if len(f.Missing)+len(f.Changed)+len(f.Extra) == 0 {
			fmt.Fprintln(w, ": ok")
		} else {
			fmt.Fprintln(w)
		}
		for _, m := range f.Missing {
			fmt.Fprintln(w, "  MISSING", describeItem(m))
		}
		for _, m := range f.Changed {
			fmt.Fprintln(w, "  CHANGED", describeItem(m))
		}
		for _, m := range f.Extra {
			fmt.Fprintln(w, "  EXTRA  ", m)
		}
		for _, m := range f.Skipped {
			fmt.Fprintln(w, "  SKIPPED", describeItem(m))
		}
	}
	if rep.OK() {
		fmt.Fprintf(w, "%s holds snapshot %s of %s as imported (%s checked) in %s\n", rep.Destination, rep.Snapshot[:12], rep.Account, mode, rep.Duration.Round(1e6))
	}
}
