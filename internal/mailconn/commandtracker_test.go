package mailconn

import "testing"

// TestCommandTracker: tagged commands are counted once each, whatever the
// chunks they are written in; literal bytes and the lines of an
// AUTHENTICATE exchange are not commands.
func TestCommandTracker(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   int
	}{
		{"one command", []string{"T1 NOOP\r\n"}, 1},
		{"split everywhere", []string{"T", "1", "2 SEL", "ECT INBOX\r", "\n"}, 1},
		{"two in one write", []string{"T1 NOOP\r\nT2 NOOP\r\n"}, 2},
		{"literal holding a command line", []string{"T3 APPEND INBOX {20}\r\n", "x\r\nT9 NOOP\r\nyyyyyyy", "\r\n"}, 1},
		{"literal+ and a binary literal", []string{"T3 APPEND INBOX {5+}\r\nT9 N ~{4}\r\nT8 x\r\n"}, 1},
		{"AUTHENTICATE response", []string{"T4 AUTHENTICATE PLAIN\r\n", "AGFsaWNlAHB3\r\n"}, 1},
		{"not a tag", []string{"DONE\r\n", "T NOOP\r\n", "Tx1 NOOP\r\n"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr commandTracker
			n := 0
			for _, w := range tt.writes {
				tr.see([]byte(w), func() { n++ })
			}
			if n != tt.want {
				t.Errorf("%d commands, want %d", n, tt.want)
			}
		})
	}
}
