package format

import (
	"errors"
	"fmt"
)

// Version is the newest archive format version this package reads and
// writes. It reads every version from 1 up; a writer writes the version of
// the archive it writes into (the config's), so that the mailferry that
// made an archive can still read all of it.
const Version = 2

// MinVersion is the oldest format version this package reads and writes.
const MinVersion = 1

// ErrNewerVersion is matched (errors.Is) by a VersionError.
var ErrNewerVersion = errors.New("archive format version is newer than this mailferry reads")

// ErrTruncated means a file ended before its end record: it was cut short.
var ErrTruncated = errors.New("file ends before its end record (truncated)")

// VersionError is returned for a file written by a newer format version.
type VersionError struct {
	What    string // the kind of file, such as "snapshot"
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s has format version %d, but this mailferry reads only up to version %d: upgrade mailferry",
		e.What, e.Version, Version)
}

// Is lets errors.Is(err, ErrNewerVersion) match.
func (e *VersionError) Is(target error) bool { return target == ErrNewerVersion }

func checkVersion(what string, v int) error {
	switch {
	case v > Version:
		return &VersionError{What: what, Version: v}
	case v < MinVersion:
		return fmt.Errorf("%s: invalid format version %d", what, v)
	}
	return nil
}

// writeVersion is the version an encoder writes for v: 0 means Version.
func writeVersion(what string, v int) (int, error) {
	if v == 0 {
		return Version, nil
	}
	if err := checkVersion(what, v); err != nil {
		return 0, err
	}
	return v, nil
}
