package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func archiveRepairCommand() *cli.Command {
	return &cli.Command{
		Name:  "repair",
		Usage: "rebuild lost or damaged index files from the packs, and keep the readable records of damaged snapshots",
		Description: "Packs of format version 2 list what they hold, so index files are rebuilt from them. Damaged\n" +
			"   files are moved to DIR/damaged/, never deleted; a damaged snapshot's readable records go into a\n" +
			"   new snapshot marked repaired (and not complete: choose it with --snapshot ID). Exit status 1 when\n" +
			"   something could not be rebuilt. Run mailferry archive verify afterwards.",
		ArgsUsage: "DIR",
		Action:    archiveRepair,
	}
}

func archiveRepair(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	rep, err := a.Repair(c.Context)
	if err != nil {
		return err
	}
	w := c.App.Writer
	for _, m := range rep.Moved {
		fmt.Fprintln(w, "set aside:", m)
	}
	if !rep.NewIndex.IsZero() {
		fmt.Fprintf(w, "index %s: %d chunks and %d messages rebuilt (%d records salvaged from damaged index files)\n",
			rep.NewIndex.Short(), rep.Chunks, rep.Messages, rep.Salvaged)
	}
	for _, s := range rep.Snapshots {
		if !s.To.IsZero() {
			fmt.Fprintf(w, "snapshot %s: %d folders and %d messages kept from damaged snapshot %s\n", s.To.Short(), s.Folders, s.Messages, s.From.Short())
		}
	}
	for _, l := range rep.Lost {
		fmt.Fprintln(w, "LOST:", l)
	}
	if len(rep.Lost) > 0 {
		return cli.Exit(fmt.Sprintf("archive %s: %d things could not be rebuilt", a.Dir(), len(rep.Lost)), 1)
	}
	if !rep.Changed() {
		fmt.Fprintln(w, "nothing to repair")
		return nil
	}
	fmt.Fprintf(w, "repaired; check with: mailferry archive verify %s\n", a.Dir())
	return nil
}
