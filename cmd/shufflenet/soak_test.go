package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// cliEnv, when set, makes the test binary run the CLI with these
// newline-separated arguments instead of the tests: the soak runs the server
// as a process of its own, whose memory it can measure.
const cliEnv = "SHUFFLENET_TEST_CLI"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliEnv); args != "" {
		if err := run(strings.Split(args, "\n"), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "shufflenet:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The soak's bounds: how long it runs, and the most the server's
// resident memory may reach. The server holds its weights and one
// network per core (about 60 MB); the hostile decodes that pass its
// checks take 20 MB each, one per core, so about 100 MB are live at most,
// and Go's collector lets the heap grow to twice what is live: 165 MB
// measured. (Before the bounds, the first 1 x 1,000,000 PNG killed the
// server.)
const (
	soakTime   = 30 * time.Second
	soakMaxRSS = 384 << 20
)

// TestSoak runs `shufflenet serve` for soakTime while clients send a mix
// of hostile and normal uploads: two send photos, three loop over every
// hostile image of the hostile-uploads issue, ten stall in mid-upload, and
// one leaves while its image decodes. Every photo gets 200 (never 503),
// every hostile upload its 4xx, and the server's peak resident memory
// stays under soakMaxRSS.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, weightstest.MegviiFile), weightstest.Megvii(t, weights.Int8), 0o644); err != nil {
		t.Fatal(err)
	}
	photo := shared.Read(t, "images/chelsea.png")
	base, pid := startServer(t, "", "serve", "--addr", "127.0.0.1:0", "--weights", dir)
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")

	ctx, cancel := context.WithTimeout(context.Background(), soakTime)
	defer cancel()
	var (
		mu      sync.Mutex
		normal  []time.Duration // each photo's round trip
		answers = map[string]map[int]int{}
		wg      sync.WaitGroup
	)
	record := func(what string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if answers[what] == nil {
			answers[what] = map[int]int{}
		}
		answers[what][status]++
	}
	post := func(data []byte) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"api/classify", bytes.NewReader(data))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	loop := func(body func()) {
		wg.Go(func() {
			for ctx.Err() == nil {
				body()
			}
		})
	}

	for range 2 {
		loop(func() {
			start := time.Now()
			status, err := post(photo)
			if err != nil {
				return // the soak ended mid-request
			}
			record("photo", status)
			mu.Lock()
			normal = append(normal, time.Since(start))
			mu.Unlock()
		})
	}
	attacks := []struct {
		name string
		data []byte
	}{
		{"1 x 1,000,000 PNG", hostile.PNG(1, 1_000_000)},
		{"1 x 10,000 PNG", hostile.PNG(1, 10_000)},
		{"decompression bomb", hostile.BombPNG(100_000, 100_000)},
		{"JPEG of empty scans", hostile.SlowJPEG(2000, 2000, 3000)},
		{"not an image", []byte("<html>a web page</html>")},
	}
	for i := range 3 {
		next := i
		loop(func() {
			a := attacks[next%len(attacks)]
			next++
			if status, err := post(a.data); err == nil {
				record(a.name, status)
			}
			// A gigabyte announced, "100 Continue" awaited.
			if status := rawStatus(ctx, addr, "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n"); status != 0 {
				record("1 GB with Expect: 100-continue", status)
			}
		})
	}
	for i := range 10 {
		loop(func() {
			// Headers and a fifth of the body, then nothing.
			req := fmt.Sprintf("POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("x", 200+i))
			if status := rawStatus(ctx, addr, req); status != 0 {
				record("stalled upload", status)
			}
		})
	}
	slow := hostile.SlowJPEG(2000, 2000, 3000)
	loop(func() {
		leave, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(leave, http.MethodPost, base+"api/classify", bytes.NewReader(slow))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		<-leave.Done()
	})
	wg.Wait()

	peak := peakRSS(t, pid)
	slices.Sort(normal)
	t.Logf("server peak RSS %d MB (bound %d MB)", peak>>20, soakMaxRSS>>20)
	if n := len(normal); n > 0 {
		t.Logf("%d photos: median %v, p99 %v, slowest %v", n, normal[n/2].Round(time.Millisecond),
			normal[n*99/100].Round(time.Millisecond), normal[n-1].Round(time.Millisecond))
	}
	want := map[string]int{"photo": 200, "stalled upload": 408, "1 GB with Expect: 100-continue": 413, "not an image": 415}
	for what, statuses := range answers {
		t.Logf("%-32s %v", what, statuses)
		expected, ok := want[what]
		if !ok {
			expected = 422
		}
		for status, n := range statuses {
			if status != expected {
				t.Errorf("%s: %d answers %d, want %d", what, n, status, expected)
			}
		}
	}
	for what := range want {
		if answers[what] == nil {
			t.Errorf("no answer to %s in %v", what, soakTime)
		}
	}
	if len(normal) < 20 {
		t.Errorf("only %d photos classified in %v", len(normal), soakTime)
	}
	if peak > soakMaxRSS {
		t.Errorf("server peak RSS %d MB, want at most %d MB", peak>>20, soakMaxRSS>>20)
	}
}

// startServer runs the CLI with args in a process of its own, in dir (or
// here, if empty), until the test ends, and returns the URL it serves on
// and its process id.
func startServer(t *testing.T, dir string, args ...string) (url string, pid int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), cliEnv+"="+strings.Join(args, "\n"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, url, ok := strings.Cut(strings.TrimSpace(line), " on ")
	if err != nil || !ok {
		t.Fatalf("the server said %q (%v); stderr: %s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	return url, cmd.Process.Pid
}

// rawStatus sends a request written by hand and returns the status code
// of the answer, or 0 if ctx ended first.
func rawStatus(ctx context.Context, addr, request string) int {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, request); err != nil {
		return 0
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0
	}
	status, _ := strconv.Atoi(fields[1])
	return status
}

// peakRSS is the process's peak resident memory (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	return procStatus(t, pid, "VmHWM")
}
