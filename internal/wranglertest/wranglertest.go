//go:build unix

// Package wranglertest runs the Cloudflare Worker locally for tests:
// `wrangler dev` (npm's wrangler, which brings workerd, as package-lock.json
// pins it) on 127.0.0.1 at a free port, quiet and offline, its files kept
// in the repository's git-ignored .tmp/. The whole process group is
// stopped when the test ends, passed or not. A test without wrangler or a
// Node that it accepts is skipped with a message, and fails when CI=true.
package wranglertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Wrangler's own timeouts are not bounded: it waits forever on some
// errors (a port in use, a bad configuration). These bound the test.
const (
	startTimeout = 90 * time.Second // from exec to "Ready on"
	stopTimeout  = 10 * time.Second // from SIGTERM to exit, then SIGKILL
)

// minNode is the oldest Node that wrangler 4 runs on.
var minNode = [3]int{22, 12, 0}

// Dev is a running `wrangler dev`.
type Dev struct {
	URL  string // http://127.0.0.1:PORT, no trailing slash
	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{} // closed when the process has exited
}

// Start runs `wrangler dev` for the project at root (which holds
// wrangler.toml and node_modules) and waits until it is ready.
func Start(t testing.TB, root string) *Dev {
	t.Helper()
	bin := filepath.Join(root, "node_modules", ".bin")
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	if _, err := os.Stat(filepath.Join(bin, "wrangler")); err != nil {
		missing(t, "no wrangler in node_modules: run npm ci --ignore-scripts")
	}
	if err := checkNode(path); err != nil {
		missing(t, err.Error())
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inspector, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, ".tmp", "wrangler")
	for _, d := range []string{"config", "tmp"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(bin, "wrangler"), "dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--inspector-ip", "127.0.0.1", "--inspector-port", strconv.Itoa(inspector), "--show-interactive-dev-session=false")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"PATH="+path,
		"WRANGLER_SEND_METRICS=false",
		"WRANGLER_SEND_ERROR_REPORTS=false",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"TMPDIR="+filepath.Join(tmp, "tmp"),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, to stop workerd too
	cmd.WaitDelay = stopTimeout                           // never wait forever on a child holding the output open
	d := &Dev{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, out: &logBuffer{}, done: make(chan struct{})}
	ready := make(chan struct{})
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wrangler: %v", err)
	}
	t.Cleanup(d.stop)
	go func() {
		cmd.Wait()
		pw.Close()
		close(d.done)
	}()
	go d.out.scan(pr, "Ready on", ready)

	select {
	case <-ready:
	case <-d.done:
		t.Fatalf("wrangler dev exited before it was ready:\n%s", d.Log())
	case <-time.After(startTimeout):
		t.Fatalf("wrangler dev was not ready after %v:\n%s", startTimeout, d.Log())
	}
	return d
}

// Log is what wrangler has printed so far.
func (d *Dev) Log() string { return d.out.String() }

// stop ends wrangler and its workerd processes: SIGTERM to the group, then
// SIGKILL to whatever is left of it.
func (d *Dev) stop() {
	pgid := d.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(stopTimeout):
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // workerd may outlive wrangler
	<-d.done
}

// CPUTime is the CPU time (user and system) that the dev server's workerd
// processes have used so far, read from /proc (Linux only). Differences
// between two readings measure the requests made in between: workerd runs
// the worker, and wrangler's Node is not on the requests' path.
func (d *Dev) CPUTime() (time.Duration, error) {
	pgid := d.cmd.Process.Pid
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return 0, errors.New("no /proc to read CPU times from")
	}
	var ticks int64
	found := 0
	for _, name := range stats {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // the process has gone
		}
		comm, group, cpu, ok := parseStat(string(data))
		if !ok || group != pgid || comm != "workerd" {
			continue
		}
		ticks += cpu
		found++
	}
	if found == 0 {
		return 0, errors.New("no workerd process in wrangler's group")
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux that Go supports.
const clockTicks = 100

// parseStat reads a /proc/PID/stat line: the command name, the process
// group, and user plus system CPU time in clock ticks.
func parseStat(line string) (comm string, pgid int, ticks int64, ok bool) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return "", 0, 0, false
	}
	comm = line[open+1 : end]
	// After the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
	f := strings.Fields(line[end+1:])
	if len(f) < 13 {
		return "", 0, 0, false
	}
	pgid, err1 := strconv.Atoi(f[2])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", 0, 0, false
	}
	return comm, pgid, utime + stime, true
}

// checkNode checks that the first node on path is one wrangler runs on.
func checkNode(path string) error {
	node, err := lookPath("node", path)
	if err != nil {
		return errors.New("no Node: run npm ci --ignore-scripts (it brings Node 22 on linux-x64) or install Node >= 22.12")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", node, err)
	}
	if v := strings.TrimSpace(string(out)); !atLeast(v, minNode) {
		return fmt.Errorf("%s is Node %s; wrangler needs %d.%d or later (npm ci --ignore-scripts brings one)", node, v, minNode[0], minNode[1])
	}
	return nil
}

// atLeast reports whether a version such as "v22.23.3" is min or later.
func atLeast(version string, min [3]int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil:
			return false
		case n != min[i]:
			return n > min[i]
		}
	}
	return true
}

// lookPath finds file in a PATH-style list.
func lookPath(file, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// freePort asks the kernel for a port on 127.0.0.1 that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("the worker's end-to-end test is required in CI: %s", why)
	}
	t.Skipf("skipping: %s", why)
}

// logBuffer collects a process's output for error messages.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// scan copies r line by line and closes ready at the first line holding marker.
func (l *logBuffer) scan(r io.Reader, marker string, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		l.mu.Lock()
		l.buf.WriteString(sc.Text() + "\n")
		l.mu.Unlock()
		if !signalled && strings.Contains(sc.Text(), marker) {
			close(ready)
			signalled = true
		}
	}
	io.Copy(io.Discard, r) // a line over the limit: keep draining so wrangler never blocks
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
