// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a server process the harness started.
type child struct {
	name string
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:PORT
	done chan struct{}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the child to end (SIGTERM) and kills it if it has not after a
// few seconds.
func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// command returns argv prefixed with taskset when cpu is set.
func command(cpu string, argv ...string) *exec.Cmd {
	if cpu != "" {
		argv = append([]string{"taskset", "-c", cpu}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = pdeathsig()
	return cmd
}

// startMode starts the harness itself in a hidden mode and waits for the
// "listening URL" line on its stdout.
func startMode(cpu string, env []string, mode string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := command(cpu, append([]string{self, mode}, args...)...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", mode, err)
	}
	c := &child{name: mode, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("start %s: no address: %w", mode, err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		c.stop()
		return nil, fmt.Errorf("start %s: unexpected first line %q", mode, line)
	}
	c.url = u
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return c, nil
}

// buildKeygate builds cmd/keygate of this module into dir.
func buildKeygate(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "keygate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/keygate/keygate/cmd/keygate")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build keygate (run the harness inside the keygate module, or pass --keygate-bin): %w", err)
	}
	return bin, nil
}

// startKeygate runs `keygate serve` on a free loopback port with its
// data in dataDir and its log in logPath, and waits until it answers
// /healthz.
func startKeygate(ctx context.Context, cpu, bin, dataDir, logPath string, env []string, extraArgs ...string) (*child, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	args := append([]string{bin, "serve", "--addr", addr, "--data-dir", dataDir, "--health-interval", "0"}, extraArgs...)
	cmd := command(cpu, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start keygate: %w", err)
	}
	c := &child{name: "keygate", cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return nil, fmt.Errorf("keygate exited at start; see %s", logPath)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := hc.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
	}
	c.stop()
	return nil, fmt.Errorf("keygate did not come up in time; see %s", logPath)
}

// freePort returns a loopback address whose port was free a moment ago.
// keygate is given a fixed port (rather than :0) so that no log line is
// needed to find it, whatever its log level.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
