package archive

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// The kill test re-runs this test binary as a writer process (see TestMain)
// and SIGKILLs it at random instants.
const writerEnv = "MAILFERRY_TEST_ARCHIVE_WRITER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(writerEnv); spec != "" {
		if err := runWriterProcess(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv(pruneEnv); spec != "" {
		if err := runPruneProcess(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killMessage is the i-th message of writer run seed: sizes vary from a few
// hundred bytes to over a megabyte so kills land in every phase of a write.
func killMessage(seed, i int) []byte {
	n := 200 + (i*7919+seed*104729)%30000
	if i%23 == 3 {
		n = 300<<10 + i*1000
	}
	return testMessage(uint64(seed)<<32|uint64(i), fmt.Sprintf("Subject: run %d message %d", seed, i), n)
}

// runWriterProcess stores messages, flushing every few, and after each
// Flush prints "ack ID" for the messages it made durable. Every third flush
// also commits a snapshot naming them.
func runWriterProcess(spec string) error {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad writer spec %q", spec)
	}
	dir, seedStr := parts[0], parts[1]
	seed, _ := strconv.Atoi(seedStr)
	count, _ := strconv.Atoi(parts[2])
	a, err := OpenOrCreate(dir)
	if err != nil {
		return err
	}
	idx, _, err := a.Index()
	if err != nil {
		return err
	}
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 128 << 10, PackSize: 2 << 20})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	var pending []format.ID
	for i := 0; i < count; i++ {
		id, _, err := w.Put(bytes.NewReader(killMessage(seed, i)))
		if err != nil {
			return err
		}
		pending = append(pending, id)
		if i%5 != 4 {
			continue
		}
		if (i/5)%3 == 2 {
			sw, err := w.NewSnapshot(format.Snapshot{Account: "kill@test", Source: format.Source{Kind: format.SourceMaildir, Endpoint: dir}, Run: seedStr, Started: time.Now(), Complete: true})
			if err != nil {
				return err
			}
			sw.Folder(format.Folder{Name: "INBOX"})
			for n, id := range pending {
				sw.Message(format.Message{Folder: "INBOX", UID: uint32(n + 1), ID: id, Size: int64(len(killMessage(seed, i-len(pending)+1+n))), InternalDate: time.Unix(1e9, 0)})
			}
			if _, err := sw.Commit(); err != nil {
				return err
			}
		} else if err := w.Flush(); err != nil {
			return err
		}
		for _, id := range pending {
			fmt.Fprintf(out, "ack %d %s\n", i, id)
		}
		out.Flush()
		pending = pending[:0]
	}
	return w.Close()
}

func TestKilledWriterKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test runs writer processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	type ack struct {
		seed, last int
		id         format.ID
	}
	var acked []ack
	const runs = 24
	for run := 0; run < runs; run++ {
		cmd := writerProcess(dir, run, 3000)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill between 30 and 730 ms in: early kills hit the first
		// pack, later ones land amid renames, index and snapshot writes.
		delay := time.Duration(30+rng.IntN(700)) * time.Millisecond
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		lines, _ := io.ReadAll(stdout)
		cmd.Wait()
		timer.Stop()
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
			var i int
			var hex string
			if _, err := fmt.Sscanf(l, "ack %d %s", &i, &hex); err != nil {
				continue
			}
			id, err := format.ParseID(hex)
			if err != nil {
				t.Fatalf("run %d: bad ack line %q", run, l)
			}
			acked = append(acked, ack{seed: run, id: id})
			n++
		}
		t.Logf("run %d: killed after %v, %d messages acknowledged", run, delay, n)
		if stderr.Len() > 0 {
			t.Fatalf("run %d: writer failed: %s", run, stderr.String())
		}

		// After every kill the archive opens, verifies, and holds every
		// acknowledged message of every run so far, byte for byte.
		a, err := Open(dir)
		if err != nil {
			t.Fatalf("run %d: open after kill: %v", run, err)
		}
		rep, err := a.Verify(context.Background())
		if err != nil || !rep.OK() {
			t.Fatalf("run %d: verify after kill: %v %v", run, err, rep.Problems)
		}
		idx, problems, err := a.Index()
		if err != nil || len(problems) > 0 {
			t.Fatalf("run %d: index after kill: %v %v", run, err, problems)
		}
		r, err := a.NewReader(idx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range acked {
			rc, _, err := r.Open(k.id)
			if err != nil {
				t.Fatalf("run %d: acknowledged message %s of run %d lost: %v", run, k.id, k.seed, err)
			}
			b, err := io.ReadAll(rc)
			if err != nil || format.Sum(b) != k.id {
				t.Fatalf("run %d: acknowledged message %s of run %d damaged: %v", run, k.id, k.seed, err)
			}
		}
		r.Close()
	}
	if len(acked) == 0 {
		t.Fatal("no run acknowledged anything: the kills came too early to test anything")
	}
}

func writerProcess(dir string, seed, count int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d", writerEnv, dir, seed, count))
	return cmd
}

// TestTwoWriterProcessesAtOnce has two processes store into one archive at
// the same time; both sets of messages and snapshots must come out intact.
func TestTwoWriterProcessesAtOnce(t *testing.T) {
	dir := t.TempDir()
	const count = 150
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for seed := 100; seed < 102; seed++ {
		cmd := writerProcess(dir, seed, count)
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	idx, _, _ := a.Index()
	r, _ := a.NewReader(idx)
	defer r.Close()
	for seed := 100; seed < 102; seed++ {
		for i := range count {
			want := killMessage(seed, i)
			rc, _, err := r.Open(format.Sum(want))
			if err != nil {
				t.Fatalf("writer %d message %d: %v", seed, i, err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("writer %d message %d differs: %v", seed, i, err)
			}
		}
	}
	snaps, problems, err := a.Snapshots()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	runs := map[string]int{}
	for _, s := range snaps {
		runs[s.Run]++
	}
	if runs["100"] != 10 || runs["101"] != 10 {
		t.Errorf("snapshots per writer: %v, want 10 each", runs)
	}
}
