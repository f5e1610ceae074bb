package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// The memory check's sizes: requests in all, the ones before the first
// measurement, and how much the server's resident memory may grow between
// it and the end.
//
// After memoryWarmup requests every buffer the server keeps (one network
// per core, the decoder's and the crop's) exists and the collector has
// run several times, so what is resident then is at most the server's
// steady state (about 70 MB here): a server that keeps nothing per request
// does not grow after it, and shrinks as the scavenger returns the start's
// garbage (measured: -27 to -1 MB). A leak of even 10 kB a request, a
// twentieth of one 224x224 crop, adds 9 MB over the 900 requests after
// it; memoryGrowth catches that, with room for the collector's noise.
const (
	memoryRequests = 1000
	memoryWarmup   = 100
	memoryGrowth   = 8 << 20
)

// TestServerMemory runs `shufflenet serve` as a process of its own and
// sends it memoryRequests classifications of the cat photo (smallPhoto), two at a time:
// every one answers 200, and the server's resident memory (VmRSS) at the
// end is at most memoryGrowth above what it was after memoryWarmup.
// `make bench-peer` prints its figures.
func TestServerMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, weightstest.MegviiFile), weightstest.Megvii(t, weights.Int8), 0o644); err != nil {
		t.Fatal(err)
	}
	photo := smallPhoto(t)
	base, pid := startServer(t, "", "serve", "--addr", "127.0.0.1:0", "--weights", dir)

	var sent, failed atomic.Int64
	send := func(n int) {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for sent.Add(1) <= int64(n) {
					resp, err := http.Post(base+"api/classify", "image/jpeg", bytes.NewReader(photo))
					if err != nil {
						t.Error(err)
						failed.Add(1)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		sent.Store(int64(n))
	}
	send(memoryWarmup)
	warm := procStatus(t, pid, "VmRSS")
	send(memoryRequests)
	end, peak := procStatus(t, pid, "VmRSS"), procStatus(t, pid, "VmHWM")
	t.Logf("server RSS after %d requests %.1f MB, after %d %.1f MB (%+.1f MB, bound %+d MB); peak RSS %.1f MB",
		memoryWarmup, mb(warm), memoryRequests, mb(end), mb(end-warm), memoryGrowth>>20, mb(peak))
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d classifications failed", n, memoryRequests)
	}
	if end-warm > memoryGrowth {
		t.Errorf("the server's RSS grew by %.1f MB over %d requests, more than %d MB: a leak?",
			mb(end-warm), memoryRequests-memoryWarmup, memoryGrowth>>20)
	}
}

// smallPhoto is the cat photo as a 256x256 JPEG: the network's work is
// the same as for a larger one, and decoding it takes little of the
// test's time.
func smallPhoto(t *testing.T) []byte {
	img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/chelsea.png"), preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, preprocess.CenterCrop(img, 256, 256), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// procStatus is a size field (VmRSS, VmHWM) of a process's
// /proc/PID/status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to measure the server's memory: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
