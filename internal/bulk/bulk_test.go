package bulk

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRun: jobs run Parallel at once and PerHost at once per host; a
// failing job fails alone; results keep the jobs' order.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		parallel, perHost int
		hosts             int
	}{{1, 0, 1}, {4, 0, 2}, {4, 2, 2}, {8, 1, 3}} {
		t.Run(fmt.Sprintf("parallel %d per host %d", tc.parallel, tc.perHost), func(t *testing.T) {
			var jobs []Job
			for i := range 24 {
				jobs = append(jobs, Job{Name: fmt.Sprintf("u%d", i), Hosts: []string{fmt.Sprintf("h%d", i%tc.hosts), "archive"}})
			}
			var mu sync.Mutex
			running, most := 0, 0
			byHost := map[string]int{}
			mostByHost := 0
			var statuses []Status
			res := Run(context.Background(), jobs, Options{Parallel: tc.parallel, PerHost: tc.perHost, Progress: func(s Status) {
				mu.Lock()
				statuses = append(statuses, s)
				mu.Unlock()
			}}, func(ctx context.Context, j Job) Result {
				h := j.Hosts[0]
				mu.Lock()
				running++
				byHost[h]++
				most, mostByHost = max(most, running), max(mostByHost, byHost[h])
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				mu.Lock()
				running--
				byHost[h]--
				mu.Unlock()
				if j.Name == "u5" {
					return Result{Error: "wrong password"}
				}
				return Result{Messages: 10, Bytes: 100}
			})
			if most > tc.parallel || (most < tc.parallel && tc.perHost == 0) {
				t.Errorf("at most %d ran at once, want %d", most, tc.parallel)
			}
			if tc.perHost > 0 && mostByHost > tc.perHost {
				t.Errorf("%d ran at once against one host, want at most %d", mostByHost, tc.perHost)
			}
			for i, r := range res {
				if r.Name != jobs[i].Name {
					t.Fatalf("result %d is %s's", i, r.Name)
				}
				if (r.Name == "u5") == r.Complete() {
					t.Errorf("%s: %+v", r.Name, r)
				}
			}
			last := statuses[len(statuses)-1]
			if last.Done != 24 || last.Failed != 1 || last.Messages != 230 || last.Running != 0 {
				t.Errorf("last status %+v", last)
			}
		})
	}
}

// TestRunCancelled: once the context ends no job starts; those not run
// say why.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var jobs []Job
	for i := range 10 {
		jobs = append(jobs, Job{Name: fmt.Sprint(i)})
	}
	res := Run(ctx, jobs, Options{Parallel: 2}, func(ctx context.Context, j Job) Result {
		if j.Name == "3" {
			cancel()
		}
		return Result{}
	})
	notRun := 0
	for _, r := range res {
		if r.Error != "" {
			notRun++
		}
	}
	if notRun == 0 || notRun > 6 {
		t.Errorf("%d not run after the cancel at the fourth job", notRun)
	}
}
