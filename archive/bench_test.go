package archive

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Benchmarks read real-looking mail from a Maildir named by
// MAILFERRY_BENCH_CORPUS (bench/archive.sh generates one with
// bench/corpusgen); without it they use synthetic text messages.
func benchCorpus(b *testing.B) [][]byte {
	b.Helper()
	dir := os.Getenv("MAILFERRY_BENCH_CORPUS")
	if dir == "" {
		var out [][]byte
		for i := range 500 {
			out = append(out, testMessage(uint64(i), "Subject: bench", 2000+i*97%60000))
		}
		return out
	}
	var out [][]byte
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "cur" {
			if m, err := os.ReadFile(p); err == nil {
				out = append(out, m)
			}
		}
		return nil
	})
	if len(out) == 0 {
		b.Fatalf("no messages under %s", dir)
	}
	return out
}

func corpusBytes(c [][]byte) int64 {
	var n int64
	for _, m := range c {
		n += int64(len(m))
	}
	return n
}

// BenchmarkWrite stores the whole corpus into a fresh archive per
// iteration, flush included; MB/s is of raw mail.
func BenchmarkWrite(b *testing.B) {
	corpus := benchCorpus(b)
	for _, bc := range []struct {
		name string
		opts WriterOptions
	}{
		{"default", WriterOptions{}},
		{"frame1M", WriterOptions{FrameSize: 1 << 20}},
		{"frame4M", WriterOptions{FrameSize: 4 << 20}},
		{"level3", WriterOptions{Level: zstd.SpeedDefault}},
		{"fast", WriterOptions{Level: zstd.SpeedFastest, FrameSize: 1 << 20}}, // export --compression fast
		{"best-headers", WriterOptions{HeaderLevel: zstd.SpeedBestCompression}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(corpusBytes(corpus))
			var stored int64
			for b.Loop() {
				a, err := OpenOrCreate(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				idx, _, _ := a.Index()
				w, err := a.NewWriter(idx, bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range corpus {
					if _, _, err := w.Put(bytes.NewReader(m)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				stored = w.Stats().PackBytes
			}
			b.ReportMetric(float64(corpusBytes(corpus))/float64(stored), "ratio")
		})
	}
}

// BenchmarkCat reads one random message back per op from a cold Reader, as
// `mailferry archive cat` does.
func BenchmarkCat(b *testing.B) {
	corpus := benchCorpus(b)
	a, err := OpenOrCreate(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	idx, _, _ := a.Index()
	w, _ := a.NewWriter(idx, WriterOptions{})
	var ids = make([][32]byte, len(corpus))
	for i, m := range corpus {
		id, _, err := w.Put(bytes.NewReader(m))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	for b.Loop() {
		r, err := a.NewReader(idx)
		if err != nil {
			b.Fatal(err)
		}
		rc, _, err := r.Open(ids[rng.IntN(len(ids))])
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rc); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
