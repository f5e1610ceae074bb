package browsertest

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Driver is a browser tab that a cross-browser test drives the same way
// whichever the browser: Chromium (chromedp over the DevTools protocol),
// Firefox ESR (puppeteer-core over WebDriver BiDi, firefox.go) or WebKitGTK
// (its WebDriver, under Xvfb, webkit.go). Each method fails the test when
// the browser does not answer.
type Driver interface {
	// Name is the browser's name and version.
	Name() string
	// Navigate loads url and waits for its load event.
	Navigate(t testing.TB, url string)
	// Eval evaluates a JavaScript expression in the page, awaiting the
	// promise it gives, and decodes its value, as JSON, into out (nil
	// ignores it).
	Eval(t testing.TB, expr string, out any)
	// Errors are the page's console errors and uncaught exceptions so far;
	// ok is false where the browser's protocol does not report them.
	Errors(t testing.TB) (errs []string, ok bool)
	// Screenshot saves the page as a PNG under artifacts/.
	Screenshot(t testing.TB, name string)
}

// Options are what a test asks of a browser as it starts.
type Options struct {
	// Camera gives the page a fake camera with the user's permission.
	// Chromium plays CameraVideo (a Y4M file); Firefox and WebKit show a
	// test pattern of their own.
	Camera      bool
	CameraVideo string
}

// Poll evaluates expr until it is truthy, failing the test after limit.
// An exception (an element not there yet) counts as false.
func Poll(t testing.TB, d Driver, expr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var ok bool
		d.Eval(t, "(() => { try { return !!("+expr+"); } catch { return false; } })()", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %v: %s", d.Name(), limit, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// missing skips the test, or fails it in CI, for a browser that is not
// installed.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (%s)", what, install)
	}
	t.Skipf("skipping: no %s (%s)", what, install)
}

// lookPath is the first of paths that exists as an executable, or "".
func lookPath(paths ...string) string {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	return ""
}

// repoRoot is the folder holding go.mod above the running test.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(dir + "/go.mod"); err == nil {
			return dir
		}
		parent := dir[:max(strings.LastIndex(dir, "/"), 1)]
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// chromium is a Browser as a Driver.
type chromium struct {
	b    *Browser
	name string
}

// Chromium starts Debian's Chromium (see New).
func Chromium(t testing.TB, o Options) Driver {
	var flags []chromedp.ExecAllocatorOption
	if o.Camera {
		flags = append(flags,
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("use-fake-device-for-media-stream", true))
		if o.CameraVideo != "" {
			flags = append(flags, chromedp.Flag("use-file-for-fake-video-capture", o.CameraVideo))
		}
	}
	out, _ := exec.Command(executable(t), "--version").Output()
	name, _, _ := strings.Cut(strings.TrimSpace(string(out)), " built on") // "Chromium 156.0.8078.129 built on Debian ..."
	return &chromium{b: New(t, flags...), name: name}
}

func (c *chromium) Name() string { return c.name }

func (c *chromium) Navigate(t testing.TB, url string) {
	t.Helper()
	c.b.Run(t, 60*time.Second, chromedp.Navigate(url))
}

func (c *chromium) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	raw := Eval[json.RawMessage](t, c.b, 60*time.Second, expr)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("Chromium: %s gave %s: %v", expr, raw, err)
		}
	}
}

func (c *chromium) Errors(testing.TB) ([]string, bool) { return c.b.Errors(), true }

func (c *chromium) Screenshot(t testing.TB, name string) { c.b.Screenshot(t, name) }
