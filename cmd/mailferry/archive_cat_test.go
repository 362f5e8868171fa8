package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
)

// TestArchiveCatByFolderAndUID: archive cat prints a message's exact bytes
// named by folder and UID as well as by id, and refuses what it cannot
// answer with one line and the exit status scripts can tell apart.
func TestArchiveCatByFolderAndUID(t *testing.T) {
	dir, msgs := testArchive(t, "u@h", "Work/2024", 3)
	uids := map[uint32]format.ID{}
	for _, l := range strings.Split(strings.TrimSpace(runCLI(t, "archive", "ls", dir, "--json")), "\n") {
		var rec lsRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		uids[rec.UID] = rec.ID
	}
	snap := strings.Fields(strings.Split(runCLI(t, "archive", "snapshots", dir), "\n")[1])[0]
	// Two accounts: the same messages (the same ids), and the sample
	// Maildir exported beside them.
	two, _ := testArchive(t, "u@h", "Work/2024", 3)
	runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", two, "--account", "sample")

	for _, tc := range []struct {
		name   string
		args   []string
		want   []byte // stdout, exactly
		status int
		errHas string // in the one error line
	}{
		{"uid", []string{dir, "--folder", "Work/2024", "--uid", "2"}, msgs[uids[2]], 0, ""},
		{"flags first", []string{"--uid", "3", "--folder", "Work/2024", dir}, msgs[uids[3]], 0, ""},
		{"account and snapshot", []string{dir, "--folder", "Work/2024", "--uid", "1", "--account", "u@h", "--snapshot", snap[:8]}, msgs[uids[1]], 0, ""},
		{"account among two", []string{two, "--folder", "Work/2024", "--uid", "1", "--account", "u@h"}, msgs[uids[1]], 0, ""},
		{"unique prefix", []string{dir, uids[2].String()[:10]}, msgs[uids[2]], 0, ""},
		{"full id", []string{dir, uids[1].String()}, msgs[uids[1]], 0, ""},

		{"no such uid", []string{dir, "--folder", "Work/2024", "--uid", "9"}, nil, 1, `snapshot ` + snap + `, folder "Work/2024", UID 9: no such message`},
		{"no such folder", []string{dir, "--folder", "Work", "--uid", "1"}, nil, 1, `snapshot ` + snap + `, folder "Work": no such folder`},
		{"no such uidl", []string{dir, "--uidl", "x1"}, nil, 1, `UIDL "x1": no such message`},
		{"no such snapshot", []string{dir, "--folder", "Work/2024", "--uid", "1", "--snapshot", "ffffffff"}, nil, 1, `no snapshot with id "ffffffff"`},
		{"account needed", []string{two, "--folder", "Work/2024", "--uid", "1"}, nil, 2, `the archive holds 2 accounts ("sample", "u@h"): choose one with --account`},
		{"id and folder", []string{dir, uids[1].String(), "--folder", "Work/2024", "--uid", "1"}, nil, 2, "give a message ID or --folder and --uid, not both"},
		{"id and uid", []string{dir, uids[1].String(), "--uid", "1"}, nil, 2, "not both"},
		{"id and account", []string{dir, uids[1].String(), "--account", "u@h"}, nil, 2, "an ID needs neither"},
		{"uid without folder", []string{dir, "--uid", "1"}, nil, 2, "--uid needs --folder"},
		{"folder without uid", []string{dir, "--folder", "Work/2024"}, nil, 2, "--uid wants a UID of 1 or more"},
		{"uid 0", []string{dir, "--folder", "Work/2024", "--uid", "0"}, nil, 2, "--uid wants a UID of 1 or more"},
		{"uid too big", []string{dir, "--folder", "Work/2024", "--uid", strconv.Itoa(1 << 32)}, nil, 2, "more than a UID can be"},
		{"uid and uidl", []string{dir, "--folder", "Work/2024", "--uid", "1", "--uidl", "x"}, nil, 2, "not both"},
		{"uid not a number", []string{dir, "--folder", "Work/2024", "--uid", "two"}, nil, 2, "invalid value"},
		{"no id", []string{dir}, nil, 2, "usage: mailferry archive cat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCLIStreams(append([]string{"archive", "cat"}, tc.args...)...)
			if got := exitCodeOf(err); got != tc.status {
				t.Fatalf("exit %d, want %d (%v)", got, tc.status, err)
			}
			if out != string(tc.want) {
				t.Errorf("stdout: %d bytes %.60q, want %d bytes %.60q", len(out), out, len(tc.want), tc.want)
			}
			if tc.status == 0 {
				return
			}
			// main prints the error, one line, after "mailferry: ".
			if msg := err.Error(); !strings.Contains(msg, tc.errHas) || strings.Contains(msg, "\n") || errOut != "" {
				t.Errorf("error %q (stderr %q), want one line with %q", msg, errOut, tc.errHas)
			}
		})
	}
}
