package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// byteSize is a flag value of bytes as people write them: 10M or 10MB
// (10,000,000), 1.5GiB (binary units), 512k, or plain digits.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	factor float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"ki", 1 << 10}, {"mi", 1 << 20}, {"gi", 1 << 30}, {"ti", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
	{"b", 1},
}

// parseSize reads a size; the error names what it expected.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
	factor := 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*factor > math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size: write bytes as 10000000, 10M or 10MB (10,000,000), 10MiB (10,485,760), 1.5G", s)
	}
	return int64(math.Round(v * factor)), nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*b), 10)
}

// sizeFlag is a flag of bytes, with its other names (imapsync's);
// usage should say what 0 means.
func sizeFlag(name, usage string, aliases ...string) *cli.GenericFlag {
	return &cli.GenericFlag{Name: name, Aliases: aliases, Value: new(byteSize), Usage: usage, DefaultText: "0"}
}

// sizeOf reads a size flag.
func sizeOf(c *cli.Context, name string) int64 {
	if b, ok := c.Generic(name).(*byteSize); ok && b != nil {
		return int64(*b)
	}
	return 0
}

// byteRate is a flag of bytes per second: a size, with or without "/s"
// (1M, 1M/s, 500KiB/s).
type byteRate struct{ byteSize }

func (r *byteRate) Set(s string) error {
	return r.byteSize.Set(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
}

// messageRate is a flag of messages per second: 4, 4/s, 0.5/s.
type messageRate float64

func (r *messageRate) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("%q is not a rate: write messages a second as 4 or 4/s", s)
	}
	*r = messageRate(v)
	return nil
}

func (r *messageRate) String() string {
	if r == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*r), 'g', -1, 64)
}

// rateOf reads a byteRate or messageRate flag.
func rateOf(c *cli.Context, name string) float64 {
	switch v := c.Generic(name).(type) {
	case *byteRate:
		return float64(v.byteSize)
	case *messageRate:
		return float64(*v)
	}
	return 0
}
