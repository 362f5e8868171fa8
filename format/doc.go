// Package format is mailferry's shared vocabulary: the data model of an archive
// (accounts, snapshots, folders, message records, flags, blob ids) and the exact
// encodings of the files that hold it, as SPEC.md describes them.
//
// It does no I/O of its own beyond encoding to writers and decoding from
// readers; storing and finding files is package archive's job.
package format
