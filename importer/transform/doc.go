// Package transform turns a stored message into what to APPEND: flags the
// folder can keep, header edits, long lines re-encoded, CRLF line ends, size
// limits, each change reported by kind. It neither reads the archive nor dials.
package transform
