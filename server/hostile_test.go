package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// rawRequest sends a request written by hand to addr and returns the
// status line of each response and everything after, until the server
// closes the connection or the deadline passes.
func rawRequest(t *testing.T, addr, request string, deadline time.Duration) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(conn)
	return string(answer)
}

// Every hostile upload in the issue that reported them gets its 4xx
// quickly and allocates a bounded amount, however much it claims or costs
// to decode.
func TestHostileUploads(t *testing.T) {
	s := catServer(t, Limits{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	slow := hostile.SlowJPEG(2000, 2000, 3000) // 48 KB; 20 s of work unbounded
	for _, c := range []struct {
		name   string
		data   []byte
		status int
		within time.Duration
	}{
		// Formerly out of memory: the resize sized 256 x 256,000,000 pixels.
		{"1 x 1,000,000 PNG", hostile.PNG(1, 1_000_000), 422, time.Second},
		{"1,000,000 x 1 PNG", hostile.PNG(1_000_000, 1), 422, time.Second},
		// Formerly 0.5 to 2.8 GB and 5 to 20 s each.
		{"1 x 10,000 PNG", hostile.PNG(1, 10_000), 422, time.Second},
		{"decompression bomb", hostile.BombPNG(100_000, 100_000), 422, time.Second},
		// Formerly minutes of CPU: 4 megapixels have a budget of 1.5 s.
		{"JPEG of empty progressive scans", slow, 422, 4 * time.Second},
		{"not an image", []byte("<html>a web page</html>"), 415, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			var (
				resp *http.Response
				v    map[string]string
				took time.Duration
			)
			allocated := hostile.Allocated(func() {
				start := time.Now()
				var err error
				if resp, err = http.Post(srv.URL+"/api/classify", "application/octet-stream", bytes.NewReader(c.data)); err != nil {
					t.Fatal(err)
				}
				json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				took = time.Since(start)
			})
			if resp.StatusCode != c.status || v["error"] == "" {
				t.Errorf("%d %q, want %d with an error", resp.StatusCode, v["error"], c.status)
			}
			if took > c.within {
				t.Errorf("answered after %v, want within %v", took, c.within)
			}
			// The slow JPEG's decoder holds its coefficients: 4 bytes a pixel, 16 MB.
			if allocated > 128<<20 {
				t.Errorf("the request allocated %d MB, want at most 128", allocated>>20)
			}
			t.Logf("%d %s after %v, %d MB allocated", resp.StatusCode, v["error"], took.Round(time.Millisecond), allocated>>20)
		})
	}
}

// Uploads that never finish arriving hold no inference place: while ten
// of them stall, a photo is classified, and each stalled one gets 408 once
// the body timeout has passed.
func TestStalledUploadsBlockNobody(t *testing.T) {
	s := catServer(t, Limits{Concurrent: 1, Queue: 1, BodyTimeout: time.Second})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	answers := make(chan string, 10)
	for i := range 10 {
		go func() {
			// Headers and a fifth of the body, then nothing.
			req := fmt.Sprintf("POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("x", 200+i))
			answers <- rawRequest(t, addr, req, 10*time.Second)
		}()
	}
	time.Sleep(200 * time.Millisecond) // the ten are connected and stalled
	resp, err := http.Post(srv.URL+"/api/classify", "image/png", bytes.NewReader(shared.Read(t, "images/chelsea.png")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a photo sent while ten uploads stall: %d, want 200", resp.StatusCode)
	}
	for range 10 {
		a := <-answers
		if !strings.HasPrefix(a, "HTTP/1.1 408 ") || !strings.Contains(a, "did not arrive within 1s") {
			t.Errorf("stalled upload answered %q, want 408", a)
		}
	}
}

// A client that announces a body over the limit and waits for "100
// Continue" is told 413 instead, and sends nothing.
func TestExpectContinueOverTheLimit(t *testing.T) {
	s := catServer(t, Limits{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req := "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n"
	answer := rawRequest(t, strings.TrimPrefix(srv.URL, "http://"), req, 5*time.Second)
	status, _, _ := strings.Cut(answer, "\r\n")
	if status != "HTTP/1.1 413 Request Entity Too Large" || strings.Contains(answer, "100 Continue") {
		t.Errorf("answer %q, want 413 and no 100 Continue", answer)
	}
}

// A client that leaves while its image decodes stops costing CPU: the
// decode ends (and gives back its memory) long before its budget.
func TestDecodeStopsWhenTheClientLeaves(t *testing.T) {
	s := catServer(t, Limits{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	slow := hostile.SlowJPEG(2000, 2000, 3000)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(slow))
	conn.Write(slow)
	// Wait until the decode holds its memory, then leave.
	full := s.limits.DecodeMemory
	waitFor(t, 2*time.Second, "the decode to start", func() bool {
		if s.decodeMemory.TryAcquire(full) {
			s.decodeMemory.Release(full)
			return false
		}
		return true
	})
	left := time.Now()
	conn.Close()
	waitFor(t, 1500*time.Millisecond, "the decode to stop", func() bool {
		if s.decodeMemory.TryAcquire(full) {
			s.decodeMemory.Release(full)
			return true
		}
		return false
	})
	t.Logf("the decode stopped %v after the client left", time.Since(left).Round(time.Millisecond))
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > limit {
			t.Fatalf("waited %v for %s", limit, what)
		}
	}
}

// A decode waits for its share of the decode memory, and one that needs
// more than the whole budget is refused at once.
func TestDecodeMemoryBudget(t *testing.T) {
	cat := shared.Read(t, "images/chelsea.png") // 451 x 300 RGBA: about 1.5 MB to decode
	s := catServer(t, Limits{DecodeMemory: 1 << 20, Timeout: 300 * time.Millisecond})
	r, v := post(t, s.Handler(), "/api/classify", "image/png", cat)
	if r.StatusCode != 422 || !strings.Contains(v["error"].(string), "the server allows 1 MB") {
		t.Errorf("an image over the whole budget: %d %v, want 422", r.StatusCode, v)
	}

	s = catServer(t, Limits{DecodeMemory: 4 << 20, Timeout: 300 * time.Millisecond})
	if !s.decodeMemory.TryAcquire(3 << 20) {
		t.Fatal("budget taken")
	}
	r, _ = post(t, s.Handler(), "/api/classify", "image/png", cat)
	if r.StatusCode != 503 {
		t.Errorf("waiting for the budget past the timeout: %d, want 503", r.StatusCode)
	}
	s.decodeMemory.Release(3 << 20)
	if r, _ := post(t, s.Handler(), "/api/classify", "image/png", cat); r.StatusCode != 200 {
		t.Errorf("with the budget free: %d, want 200", r.StatusCode)
	}
}

// Uploads are counted against the upload memory as they arrive: past it,
// the next upload is turned away with 503 rather than held.
func TestUploadMemoryBudget(t *testing.T) {
	cat := shared.Read(t, "images/chelsea.png")
	s := catServer(t, Limits{UploadMemory: 1 << 20})
	if !s.uploadMemory.TryAcquire(1<<20 - 1000) {
		t.Fatal("budget taken")
	}
	r, _ := post(t, s.Handler(), "/api/classify", "image/png", cat)
	if r.StatusCode != 503 {
		t.Errorf("a %d-byte upload with 1000 bytes of budget left: %d, want 503", len(cat), r.StatusCode)
	}
	s.uploadMemory.Release(1<<20 - 1000)
	if r, _ := post(t, s.Handler(), "/api/classify", "image/png", cat); r.StatusCode != 200 {
		t.Errorf("with the budget free: %d, want 200", r.StatusCode)
	}
	// Everything the requests held is back.
	if !s.uploadMemory.TryAcquire(1 << 20) {
		t.Error("the uploads did not give back their memory")
	}
}

// A chunked upload that trickles in slower than the body timeout gets 408.
func TestSlowChunkedUpload(t *testing.T) {
	s := catServer(t, Limits{BodyTimeout: 500 * time.Millisecond})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		for range 20 {
			if _, err := pw.Write([]byte("slow")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/classify", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != 408 || !strings.Contains(line, "did not arrive") {
		t.Errorf("%d %s, want 408", resp.StatusCode, line)
	}
	pr.CloseWithError(io.ErrClosedPipe)
}
