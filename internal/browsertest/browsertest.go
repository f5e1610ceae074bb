// Package browsertest runs end-to-end tests in real browsers, Debian's and
// never downloaded ones, against servers on 127.0.0.1: headless Chromium
// driven by chromedp (Browser, the most complete), and behind one Driver
// interface Chromium, Firefox ESR (puppeteer-core over WebDriver BiDi) and
// WebKitGTK (WebKitWebDriver under Xvfb). A test whose browser is missing
// is skipped with a message, and fails when CI=true.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is a tab in a fresh Chromium with its own profile, and the
// console messages and uncaught exceptions of the page it shows.
type Browser struct {
	Ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// executable finds Chromium.
func executable(t testing.TB) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI (apt-get install -y chromium)")
	}
	t.Skip("skipping: no Chromium (apt-get install -y chromium, or set $CHROMIUM)")
	return ""
}

// New starts a headless Chromium with a fresh profile. flags add to the
// standard ones (for example the fake camera's). The browser closes when
// the test ends.
func New(t testing.TB, flags ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(executable(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR=" + socketDir(t)),
		chromedp.WindowSize(1200, 900),
	}
	opts = append(opts, flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser; it runs on a context without a
	// deadline, because the browser lives as long as that context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b := &Browser{Ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// socketDir is a temporary directory for Chromium's $TMPDIR, removed when
// the test ends. Chromium keeps its singleton socket in a directory of
// its own there and leaves it behind when a test ends the browser. The
// name is short because a socket's path is limited to about 100 bytes,
// which t.TempDir's names (the test's name and more) can exceed.
func socketDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "chromium")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Run runs steps with a time limit.
func (b *Browser) Run(t testing.TB, limit time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%v (console: %s)", err, b.Console())
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise it returns).
func Eval[T any](t testing.TB, b *Browser, limit time.Duration, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, limit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v (console: %s)", expr, err, b.Console())
	}
	return v
}

// Console is everything the page logged so far, one message per line.
func (b *Browser) Console() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for _, m := range b.console {
		lines = append(lines, string(m.Type)+": "+m.Text)
	}
	return strings.Join(lines, "\n")
}

// Errors lists the console errors and uncaught exceptions so far, except
// those whose text contains one of allowed.
func (b *Browser) Errors(allowed ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []string
	for _, m := range b.console {
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		if slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(m.Text, a) }) {
			continue
		}
		errs = append(errs, m.Text)
	}
	return errs
}

// Screenshot saves the page as a PNG under the repository's artifacts/
// directory (ignored by git), for people to look at after a run.
func (b *Browser) Screenshot(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	dir := ArtifactDir(t)
	if err := os.WriteFile(dir+"/"+name, png, 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("screenshot: %s/%s", dir, name)
}

// ArtifactDir is the repository's artifacts/ directory, created if needed.
func ArtifactDir(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(dir + "/go.mod"); err == nil {
			break
		}
		parent := dir[:max(strings.LastIndex(dir, "/"), 1)]
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	dir += "/artifacts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
