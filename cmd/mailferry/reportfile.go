package main

import (
	"encoding/json"
	"fmt"

	"github.com/mailferry/mailferry/internal/atomicfile"
	"github.com/urfave/cli/v2"
)

// reportFlag writes a run's JSON report to a file as well (--report).
var reportFlag = &cli.StringFlag{Name: "report", Usage: "also write the run's JSON report to `FILE` (0600)"}

// printJSON prints v as indented JSON (--json).
func printJSON(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeReport writes v as indented JSON to the --report file, if one was
// given: whole or not at all (a temporary file renamed into place).
func writeReport(c *cli.Context, v any) error {
	path := c.String("report")
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, "", append(b, '\n')); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	return nil
}
