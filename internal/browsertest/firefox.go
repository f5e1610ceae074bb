package browsertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// firefox is Firefox ESR driven by puppeteer-core over WebDriver BiDi, in
// a Node process running firefox.mjs, which takes one JSON request per
// line and answers each on a line of its own.
type firefox struct {
	name   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	nextID int
}

// Firefox starts Debian's Firefox ESR, headless, with a fresh profile.
// It needs Node.js and puppeteer-core, which make test-deps installs in
// web/node_modules from web's lockfile; puppeteer-core never downloads a
// browser.
func Firefox(t testing.TB, o Options) Driver {
	t.Helper()
	bin := lookPath(os.Getenv("FIREFOX"), "/usr/bin/firefox-esr", "/usr/bin/firefox")
	if bin == "" {
		missing(t, "Firefox", "apt-get install -y firefox-esr, or set $FIREFOX")
	}
	node := lookPath("node")
	modules := filepath.Join(repoRoot(t), "web", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "puppeteer-core")); node == "" || err != nil {
		missing(t, "Node.js with puppeteer-core", "npm ci --prefix web")
	}
	prefs := map[string]any{}
	if o.Camera {
		// Firefox's own fake camera, allowed without asking.
		prefs["media.navigator.streams.fake"] = true
		prefs["media.navigator.permission.disabled"] = true
	}
	prefsJSON, _ := json.Marshal(prefs)
	script := filepath.Join(repoRoot(t), "internal", "browsertest", "firefox.mjs")
	cmd := exec.Command(node, script, modules, bin, string(prefsJSON))
	cmd.Env = append(os.Environ(), "TMPDIR="+socketDir(t)) // its profile goes there, removed with it
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Firefox's driver: %v", err)
	}
	f := &firefox{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() {
		in.Close() // the script closes the browser and ends
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			f.stop(done)
		}
	})
	var version string
	if err := f.answer(60*time.Second, 0, &version); err != nil {
		t.Fatalf("start Firefox: %v", err)
	}
	f.name = "Firefox " + strings.TrimPrefix(version, "firefox/")
	return f
}

// call sends one request and decodes its answer into out.
func (f *firefox) call(t testing.TB, limit time.Duration, op string, arg any, out any) {
	t.Helper()
	f.nextID++
	line, _ := json.Marshal(map[string]any{"id": f.nextID, "op": op, "arg": arg})
	if _, err := f.in.Write(append(line, '\n')); err != nil {
		t.Fatalf("Firefox: %s: %v", op, err)
	}
	if err := f.answer(limit, f.nextID, out); err != nil {
		t.Fatalf("Firefox: %s %v: %v", op, arg, err)
	}
}

// answer reads the answer to request id.
func (f *firefox) answer(limit time.Duration, id int, out any) error {
	type reply struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *string         `json:"error"`
	}
	got := make(chan reply, 1)
	failed := make(chan error, 1)
	go func() {
		line, err := f.out.ReadBytes('\n')
		if err != nil {
			failed <- fmt.Errorf("the driver stopped: %v", err)
			return
		}
		var r reply
		if err := json.Unmarshal(line, &r); err != nil {
			failed <- fmt.Errorf("the driver answered %q: %v", line, err)
			return
		}
		got <- r
	}()
	select {
	case r := <-got:
		switch {
		case r.ID != id:
			return fmt.Errorf("answer %d to request %d", r.ID, id)
		case r.Error != nil:
			return fmt.Errorf("%s", *r.Error)
		case out != nil:
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case err := <-failed:
		return err
	case <-time.After(limit):
		f.stop(nil) // the next read fails rather than answering this one
		return fmt.Errorf("no answer in %v", limit)
	}
}

// stop ends the driver: SIGTERM first, on which puppeteer closes Firefox
// (it runs in a process group of its own, which a SIGKILL of Node would
// leave running), then SIGKILL after a while. done, if not nil, closes
// when the driver has ended.
func (f *firefox) stop(done <-chan struct{}) {
	f.cmd.Process.Signal(syscall.SIGTERM)
	if done == nil {
		d := make(chan struct{})
		go func() { f.cmd.Process.Wait(); close(d) }()
		done = d
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		f.cmd.Process.Kill()
	}
}

func (f *firefox) Name() string { return f.name }

func (f *firefox) Navigate(t testing.TB, url string) {
	t.Helper()
	f.call(t, 60*time.Second, "navigate", url, nil)
}

func (f *firefox) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	f.call(t, 60*time.Second, "eval", expr, out)
}

func (f *firefox) Errors(t testing.TB) ([]string, bool) {
	var errs []string
	f.call(t, 10*time.Second, "errors", nil, &errs)
	return errs, true
}

func (f *firefox) Screenshot(t testing.TB, name string) {
	t.Helper()
	path := filepath.Join(ArtifactDir(t), name)
	f.call(t, 30*time.Second, "screenshot", path, nil)
	t.Logf("screenshot: %s", path)
}
