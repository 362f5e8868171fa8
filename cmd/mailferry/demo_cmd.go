package main

import (
	"fmt"
	"os"

	"github.com/mailferry/mailferry/cmd/mailferry/demo"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole job on loopback: fill an in-memory IMAP server, export it, import into another, verify",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "archive", Usage: "write the archive to `DIR` (default: a new temporary directory, kept for you to look at)"},
		},
		Action: func(c *cli.Context) error {
			dir := c.String("archive")
			if dir == "" {
				tmp, err := os.MkdirTemp("", "mailferry-demo-")
				if err != nil {
					return err
				}
				dir = tmp + "/archive"
			}
			if _, err := os.Stat(dir); err == nil {
				return cli.Exit(fmt.Sprintf("--archive %s exists already: the demo wants a new directory", dir), 2)
			}
			if _, err := demo.Run(c.Context, c.App.Writer, dir); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "look at the archive: mailferry archive info %s; mailferry archive ls %s\n", dir, dir)
			return nil
		},
	}
}
