package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

// stopTimeout bounds the wait for a killed server to be reaped.
const stopTimeout = 10 * time.Second

// serverProcess is a server running in the foreground as our child.
type serverProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
	err    error         // the exit status; read only after exited is closed
}

// startProcess starts bin with its standard output and error appended to
// logFile, so that messages printed before the server opens its own log
// end up in the same place.
func startProcess(bin string, args []string, logFile string) (*serverProcess, error) {
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = serverProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the process. It reports an error if the process had already
// died, since a server exiting in the middle of a test is a finding of its
// own.
func (p *serverProcess) stop() error {
	select {
	case <-p.exited:
		return fmt.Errorf("server exited before it was stopped: %v", p.err)
	default:
	}
	if err := killServer(p.cmd); err != nil {
		return fmt.Errorf("kill server: %w", err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("server still running %v after SIGKILL", stopTimeout)
	}
}
