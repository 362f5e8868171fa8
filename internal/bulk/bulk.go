package bulk

import (
	"context"
	"sync"
	"time"
)

// Job is one account's work: its name and the hosts it connects to (for
// the per-host cap).
type Job struct {
	Name  string
	Hosts []string
}

// Result is what a job did.
type Result struct {
	Name     string        `json:"account"`
	Folders  int           `json:"folders"`
	Messages int           `json:"messages"`
	Bytes    int64         `json:"bytes"`
	Skipped  int           `json:"skipped"`
	Failed   int           `json:"failed"`
	Duration time.Duration `json:"duration_ns"`
	// Error is why the account did not complete ("" when it did); Report
	// the job's own report, for the JSON report.
	Error  string `json:"error,omitempty"`
	Report any    `json:"report,omitempty"`
}

// Complete reports whether the account completed with nothing failed.
func (r Result) Complete() bool { return r.Error == "" && r.Failed == 0 }

// Options bound how many jobs run at once.
type Options struct {
	// Parallel is how many accounts run at once (default 1).
	Parallel int
	// PerHost is how many may run at once against one server host (0: no
	// cap beyond Parallel): providers limit connections per user and per
	// host.
	PerHost int
	// Progress, if set, is told as jobs start and end.
	Progress func(Status)
}

// Status is the whole run at one moment.
type Status struct {
	Total, Running, Done, Failed int
	Messages                     int
	Bytes                        int64
	Started                      time.Time
}

// Run runs do for every job, as Options allow, and returns the results in
// the jobs' order. A job's error is its result's; only the context's end
// stops the others (jobs not started then are reported as not run).
func Run(ctx context.Context, jobs []Job, opts Options, do func(context.Context, Job) Result) []Result {
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	results := make([]Result, len(jobs))
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	perHost := map[string]int{}
	st := Status{Total: len(jobs), Started: time.Now()}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	// fits says whether job may start now under the per-host cap; mu held.
	fits := func(j Job) bool {
		if opts.PerHost <= 0 {
			return true
		}
		for _, h := range j.Hosts {
			if perHost[h] >= opts.PerHost {
				return false
			}
		}
		return true
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	defer stop()

	var wg sync.WaitGroup
	next := 0
	started := make([]bool, len(jobs))
	for w := 0; w < opts.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := -1
				for {
					if ctx.Err() != nil || next == len(jobs) {
						break
					}
					// The first job not started whose hosts have room: a
					// full host does not hold up the others.
					for k := next; k < len(jobs); k++ {
						if !started[k] && fits(jobs[k]) {
							i = k
							break
						}
					}
					if i >= 0 {
						break
					}
					cond.Wait()
				}
				if i < 0 {
					mu.Unlock()
					return
				}
				started[i] = true
				for next < len(jobs) && started[next] {
					next++
				}
				for _, h := range jobs[i].Hosts {
					perHost[h]++
				}
				st.Running++
				report()
				mu.Unlock()

				start := time.Now()
				r := do(ctx, jobs[i])
				r.Name = jobs[i].Name
				if r.Duration == 0 {
					r.Duration = time.Since(start)
				}

				mu.Lock()
				results[i] = r
				for _, h := range jobs[i].Hosts {
					perHost[h]--
				}
				st.Running--
				st.Done++
				if !r.Complete() {
					st.Failed++
				}
				st.Messages += r.Messages
				st.Bytes += r.Bytes
				report()
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := range jobs {
		if !started[i] {
			results[i] = Result{Name: jobs[i].Name, Error: "not run: " + context.Cause(ctx).Error()}
		}
	}
	return results
}
