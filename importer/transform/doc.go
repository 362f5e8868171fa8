// Package transform turns a stored message into what to APPEND: flags the
// folder can keep, header edits, long lines re-encoded, size limits, each change
// reported. Pure functions of the message; it neither reads the archive nor dials.
package transform
