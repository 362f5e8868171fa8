package mbox

import "errors"

// ErrNotMbox means input does not start with a From_ line.
var ErrNotMbox = errors.New("not an mbox: does not start with a \"From \" line")

// ErrFlagsDropped is returned by Writer.Write for a message that was written
// whole but without its flags: its header section is too long (over 1 MiB)
// for a reader to look for Status headers in it.
var ErrFlagsDropped = errors.New("message written without its flags: header section over 1 MiB")

// ErrNoDate means a message to write has no date for its From_ line.
var ErrNoDate = errors.New("message has no date for its From_ line")

// ErrKeyword means a keyword cannot be stored in an X-Keywords header.
var ErrKeyword = errors.New("keyword cannot be stored in X-Keywords")

// ErrFolderName is matched by errors about a folder name that cannot be a
// file name in an mbox tree.
var ErrFolderName = errors.New("folder name cannot be stored as an mbox file")
