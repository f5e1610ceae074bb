package zoo

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shufflenet-go/shufflenet/weights"
)

// maxDownload bounds a download whose size is not published. The largest
// ShuffleNet V1 checkpoint is about 30 MB.
const maxDownload = 256 << 20

// Fetcher finds a zoo checkpoint: in CacheDir, then in CopyDirs, then at
// its public address (saved into CacheDir). Whatever the source, the
// bytes are verified against the entry's size and checksum before use.
type Fetcher struct {
	// CacheDir keeps downloaded checkpoints.
	CacheDir string
	// CopyDirs may already hold checkpoint files under their zoo file
	// names (read-only; $SHUFFLENET_CHECKPOINTS).
	CopyDirs []string
	// Client makes the downloads; nil means http.DefaultClient.
	Client *http.Client
	// Progress, if set, receives a progress line as a download goes.
	Progress io.Writer
	// StallTimeout aborts a download that receives nothing for this long
	// (default 30 s).
	StallTimeout time.Duration
}

// Checkpoint returns the verified bytes of e's checkpoint file.
func (f *Fetcher) Checkpoint(ctx context.Context, e Entry) ([]byte, error) {
	cached := filepath.Join(f.CacheDir, e.File)
	if data, err := os.ReadFile(cached); err == nil {
		err := Verify(e, data)
		if err == nil {
			return data, nil
		}
		os.Remove(cached)
		f.say("%s: cached copy failed verification and was deleted: %v\n", e.Name, err)
	}
	for _, dir := range f.CopyDirs {
		path := filepath.Join(dir, e.File)
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if err := Verify(e, data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return data, nil
	}
	data, err := f.download(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("fetch %s from %s: %w\nWithout network access, put %s at %s (or in a directory named by $SHUFFLENET_CHECKPOINTS)",
			e.Name, e.URL, err, e.File, cached)
	}
	if err := writeAtomic(cached, data); err != nil {
		return nil, err
	}
	return data, nil
}

// Install makes sure dir holds e's weights file (WeightsFile), fetching
// the checkpoint and converting it with convert when the file is missing,
// unreadable or made from another checkpoint. It returns the file's path.
func (f *Fetcher) Install(ctx context.Context, e Entry, dir string, convert func(checkpoint []byte) ([]byte, error)) (string, error) {
	path := filepath.Join(dir, e.WeightsFile())
	if data, err := os.ReadFile(path); err == nil {
		if m, err := weights.Decode(data); err == nil && madeFrom(e, m.Meta) {
			return path, nil
		}
		f.say("%s: %s is stale or damaged; converting again\n", e.Name, path)
	}
	ckpt, err := f.Checkpoint(ctx, e)
	if err != nil {
		return "", err
	}
	out, err := convert(ckpt)
	if err != nil {
		return "", fmt.Errorf("convert %s: %w", e.File, err)
	}
	return path, writeAtomic(path, out)
}

// madeFrom reports whether a weights file was converted from e's checkpoint.
func madeFrom(e Entry, m weights.Meta) bool {
	if kind, sum, _ := strings.Cut(e.Checksum, ":"); kind == "sha256" {
		return m.SourceSHA256 == sum
	}
	return m.SourceName == e.File
}

// download fetches, unpacks and verifies e's checkpoint, writing nothing.
func (f *Fetcher) download(ctx context.Context, e Entry) ([]byte, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := f.StallTimeout
	if stall == 0 {
		stall = 30 * time.Second
	}
	// Every read that returns bytes pushes the deadline back.
	watchdog := time.AfterFunc(stall, func() { cancel(fmt.Errorf("no data for %v", stall)) })
	defer watchdog.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
	if err != nil {
		return nil, err
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, causeOf(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	limit := int64(maxDownload)
	if e.Bytes > 0 && e.Archive == "" {
		limit = e.Bytes
	}
	total := resp.ContentLength
	var got atomic.Int64
	progress := f.progress(e.Name, &got, total)
	defer progress(true)
	body := &watchedReader{r: io.LimitReader(resp.Body, limit+1), onData: func(n int) {
		watchdog.Reset(stall)
		got.Add(int64(n))
		progress(false)
	}}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, causeOf(ctx, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the download is larger than %d bytes", limit)
	}
	if total >= 0 && int64(len(data)) != total {
		return nil, fmt.Errorf("truncated download: %d of %d bytes", len(data), total)
	}
	if e.Archive == "zip" {
		if data, err = unzipMember(data, e.File); err != nil {
			return nil, err
		}
	}
	if err := Verify(e, data); err != nil {
		return nil, err
	}
	return data, nil
}

// causeOf prefers the reason the context was cancelled (a stall) to the
// error it caused.
func causeOf(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// watchedReader reports every successful read.
type watchedReader struct {
	r      io.Reader
	onData func(n int)
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.onData(n)
	}
	return n, err
}

// progress returns a function that prints a progress line at most ten
// times a second, and a final one when done.
func (f *Fetcher) progress(name string, got *atomic.Int64, total int64) func(done bool) {
	var last time.Time
	start := time.Now()
	return func(done bool) {
		if f.Progress == nil || (!done && time.Since(last) < 100*time.Millisecond) {
			return
		}
		last = time.Now()
		n := got.Load()
		rate := float64(n) / 1e6 / max(last.Sub(start).Seconds(), 1e-3)
		if total > 0 {
			f.say("\rdownloading %s: %.1f / %.1f MB (%d%%, %.1f MB/s)", name, float64(n)/1e6, float64(total)/1e6, 100*n/total, rate)
		} else {
			f.say("\rdownloading %s: %.1f MB (%.1f MB/s)", name, float64(n)/1e6, rate)
		}
		if done {
			f.say("\n")
		}
	}
}

func (f *Fetcher) say(format string, args ...any) {
	if f.Progress != nil {
		fmt.Fprintf(f.Progress, format, args...)
	}
}

// unzipMember extracts one file from a zip archive held in memory, reading
// no more than the size its directory entry declares.
func unzipMember(archive []byte, name string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("the download is not a zip archive: %w", err)
	}
	for _, f := range zr.File {
		if filepath.Base(f.Name) != name {
			continue
		}
		if f.UncompressedSize64 > maxDownload {
			return nil, fmt.Errorf("%s in the archive claims %d bytes", name, f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		if err != nil {
			return nil, fmt.Errorf("unzip %s: %w", name, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("the archive has no %s", name)
}

// Verify checks data against e's published size and checksum.
func Verify(e Entry, data []byte) error {
	if e.Bytes > 0 && int64(len(data)) != e.Bytes {
		return fmt.Errorf("size mismatch: %d bytes, want %d", len(data), e.Bytes)
	}
	kind, want, ok := strings.Cut(e.Checksum, ":")
	if !ok {
		return fmt.Errorf("zoo entry %s: malformed checksum %q", e.Name, e.Checksum)
	}
	var got string
	switch kind {
	case "sha256":
		sum := sha256.Sum256(data)
		got = hex.EncodeToString(sum[:])
	case "sha256-prefix":
		sum := sha256.Sum256(data)
		got = hex.EncodeToString(sum[:])[:len(want)]
	case "sha1":
		sum := sha1.Sum(data)
		got = hex.EncodeToString(sum[:])
	default:
		return fmt.Errorf("zoo entry %s: unknown checksum kind %q", e.Name, kind)
	}
	if got != want {
		return fmt.Errorf("checksum mismatch: %s %s, want %s", kind, got, want)
	}
	return nil
}

// writeAtomic writes data to path atomically (weights.WriteFileAtomic),
// making its folder first.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return weights.WriteFileAtomic(path, data)
}
