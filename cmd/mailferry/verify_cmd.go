package main

import (
	"encoding/json"
	"fmt"

	"github.com/mailferry/mailferry/importer"
	"github.com/urfave/cli/v2"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "compare a destination with the snapshot imported into it; exit non-zero on any difference",
		Description: "Folder by folder (mapped as import maps them, so give the same folder options), every record of\n" +
			"the snapshot must be on the destination, found by the UID the manifest recorded or else by\n" +
			"Message-ID and size, with its flags and internal date. Missing, extra and differing messages are\n" +
			"listed. Nothing is changed.",
		Flags:  append(destinationFlags(), connFlags()...),
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	d, err := openDestination(c)
	if err != nil {
		return err
	}
	defer d.opts.Manifest.Close()
	rep, err := importer.VerifyIMAP(c.Context, d.a, d.opts)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		for _, f := range rep.Folders {
			fmt.Fprintf(c.App.Writer, "%-30s expected %d, found %d", f.Folder, f.Expected, f.Found)
			if n := len(f.Missing) + len(f.Extra) + len(f.Differ); n == 0 {
				fmt.Fprintln(c.App.Writer, ": ok")
				continue
			}
			fmt.Fprintln(c.App.Writer)
			for _, m := range f.Missing {
				fmt.Fprintln(c.App.Writer, "  MISSING", m)
			}
			for _, m := range f.Extra {
				fmt.Fprintln(c.App.Writer, "  EXTRA  ", m)
			}
			for _, m := range f.Differ {
				fmt.Fprintln(c.App.Writer, "  DIFFERS", m)
			}
		}
	}
	if !rep.OK() {
		return cli.Exit(fmt.Sprintf("%s differs from snapshot %s", d.endpoint, d.snap.ID.Short()), 1)
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "%s holds snapshot %s of %s exactly\n", d.endpoint, d.snap.ID.Short(), d.snap.Account)
	}
	return nil
}
