package zoo

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var payload = bytes.Repeat([]byte("shufflenet checkpoint bytes "), 4000)

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// serve starts a loopback server for one path with the given handler and
// returns an entry pointing at it and a counter of requests.
func serve(t *testing.T, h http.HandlerFunc) (Entry, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return Entry{Name: "test-model", URL: srv.URL + "/model.pth", File: "model.pth",
		Bytes: int64(len(payload)), Checksum: "sha256:" + sha256Hex(payload)}, &hits
}

func good(w http.ResponseWriter, r *http.Request) { w.Write(payload) }

func TestDownloadVerifiesAndCaches(t *testing.T) {
	e, hits := serve(t, good)
	var progress bytes.Buffer
	f := &Fetcher{CacheDir: t.TempDir(), Progress: &progress}
	for range 2 {
		data, err := f.Checkpoint(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, payload) {
			t.Fatal("wrong bytes")
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests; the second fetch should come from the cache", hits.Load())
	}
	if !strings.Contains(progress.String(), "downloading test-model") {
		t.Errorf("no progress shown: %q", progress.String())
	}
	entries, _ := os.ReadDir(f.CacheDir)
	if len(entries) != 1 || entries[0].Name() != "model.pth" {
		t.Errorf("cache holds %v", entries)
	}
}

// Every failed download leaves the cache empty and says what went wrong.
func TestDownloadFailures(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		edit    func(*Entry)
		want    string
	}{
		{"wrong checksum", good, func(e *Entry) { e.Checksum = "sha256:" + strings.Repeat("0", 64) }, "checksum mismatch"},
		{"wrong size", good, func(e *Entry) { e.Bytes++ }, "size mismatch"},
		{"not found", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, nil, "404"},
		{"truncated body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.Write(payload[:1000])
			// Returning early with a short body makes the server close the connection.
		}, nil, "EOF"},
		{"stalled server", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.Write(payload[:1000])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, nil, "no data for"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := serve(t, c.handler)
			if c.edit != nil {
				c.edit(&e)
			}
			f := &Fetcher{CacheDir: t.TempDir(), StallTimeout: 300 * time.Millisecond}
			start := time.Now()
			_, err := f.Checkpoint(context.Background(), e)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "put model.pth at") {
				t.Errorf("error %q: want %q and where to put the file", err, c.want)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if entries, _ := os.ReadDir(f.CacheDir); len(entries) != 0 {
				t.Errorf("cache holds %v after a failed download", entries)
			}
		})
	}
}

func TestZipArchive(t *testing.T) {
	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	w, _ := zw.Create("model.pth")
	w.Write(payload)
	zw.Close()
	e, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write(archive.Bytes()) })
	sum := sha1.Sum(payload)
	e.Archive, e.Bytes, e.Checksum = "zip", 0, "sha1:"+hex.EncodeToString(sum[:])
	f := &Fetcher{CacheDir: t.TempDir()}
	data, err := f.Checkpoint(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, payload) {
		t.Error("wrong bytes from the archive")
	}
}

func TestCacheAndCopies(t *testing.T) {
	e, hits := serve(t, good)
	cache, copies := t.TempDir(), t.TempDir()
	f := &Fetcher{CacheDir: cache, CopyDirs: []string{copies}}

	// A damaged cached file is deleted and fetched again.
	os.WriteFile(filepath.Join(cache, "model.pth"), []byte("damaged"), 0o644)
	if _, err := f.Checkpoint(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("damaged cache: %d downloads, want 1", hits.Load())
	}

	// A good copy is used without a download.
	os.Remove(filepath.Join(cache, "model.pth"))
	os.WriteFile(filepath.Join(copies, "model.pth"), payload, 0o644)
	if _, err := f.Checkpoint(context.Background(), e); err != nil || hits.Load() != 1 {
		t.Errorf("copy: err %v, %d downloads", err, hits.Load())
	}

	// A bad copy is an error that names it (and is left alone: copies are read-only).
	os.WriteFile(filepath.Join(copies, "model.pth"), payload[1:], 0o644)
	if _, err := f.Checkpoint(context.Background(), e); err == nil || !strings.Contains(err.Error(), copies) {
		t.Errorf("bad copy: error %v", err)
	}
}

func TestOfflineSaysWhereToPutTheFile(t *testing.T) {
	e := Entry{Name: "m", URL: "http://127.0.0.1:1/none.pth", File: "none.pth", Checksum: "sha256:00"}
	f := &Fetcher{CacheDir: "weights/cache"}
	_, err := f.Checkpoint(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "put none.pth at weights/cache/none.pth") {
		t.Errorf("error %v", err)
	}
}
