package browsertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// webkit is WebKitGTK's MiniBrowser driven through WebKitWebDriver, which
// speaks classic W3C WebDriver (JSON over HTTP): a handful of its
// endpoints are all the tests need, so they are called here directly
// rather than through a client library. MiniBrowser needs a display, so
// the driver runs under xvfb-run.
type webkit struct {
	base    string // the session's URL
	version string
}

const miniBrowser = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"

// WebKit starts WebKitGTK's MiniBrowser under Xvfb.
func WebKit(t testing.TB, o Options) Driver {
	t.Helper()
	driver, xvfb := lookPath("WebKitWebDriver"), lookPath("xvfb-run")
	browser := lookPath(os.Getenv("WEBKIT_BROWSER"), miniBrowser)
	if driver == "" || xvfb == "" || browser == "" {
		missing(t, "WebKitGTK's WebDriver, MiniBrowser and Xvfb", "apt-get install -y webkit2gtk-driver xvfb")
	}
	args := []string{"--automation"}
	if o.Camera {
		args = append(args, "--enable-media-stream=true", "--enable-mock-capture-devices=true")
	}
	// Xvfb's display or the driver's port, picked free a moment before,
	// can be taken by then: a second try gets others.
	w, err := startWebKit(t, xvfb, driver, browser, args)
	if err != nil {
		t.Logf("WebKit did not start (%v); trying again", err)
		if w, err = startWebKit(t, xvfb, driver, browser, args); err != nil {
			t.Fatalf("WebKit did not start: %v", err)
		}
	}
	return w
}

// startWebKit starts WebKitWebDriver under xvfb-run and a MiniBrowser
// session in it, which end with the test.
func startWebKit(t testing.TB, xvfb, driver, browser string, args []string) (*webkit, error) {
	port := freePort(t)
	cmd := exec.Command(xvfb, "-a", driver, "--port="+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "TMPDIR="+socketDir(t))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to end Xvfb with it
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start WebKitWebDriver: %w", err)
	}
	cmd.WaitDelay = 5 * time.Second // a helper that kept the output open must not hold the test
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	server := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := request(http.MethodGet, server+"/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("WebKitWebDriver did not answer: %s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var session struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": browser, "args": args},
	}}}
	if err := request(http.MethodPost, server+"/session", caps, &session); err != nil {
		stop()
		return nil, fmt.Errorf("start MiniBrowser: %v (%s)", err, log.String())
	}
	w := &webkit{base: server + "/session/" + session.SessionID, version: session.Capabilities.BrowserVersion}
	t.Cleanup(func() {
		request(http.MethodDelete, w.base, nil, nil)
		stop()
	})
	if err := request(http.MethodPost, w.base+"/window/rect", map[string]int{"width": 1200, "height": 900}, nil); err != nil {
		t.Logf("WebKit: window size: %v", err)
	}
	return w, nil
}

// lockedBuffer collects a process's output, which its own goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort is a TCP port free on 127.0.0.1 a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// request sends a WebDriver command and decodes its answer's value.
func request(method, url string, body, value any) error {
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, in)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := http.Client{Timeout: 90 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("%s %s: HTTP %d, %v", method, url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(answer.Value, &e)
		return fmt.Errorf("%s: %s", e.Error, e.Message)
	}
	if value != nil {
		return json.Unmarshal(answer.Value, value)
	}
	return nil
}

func (w *webkit) Name() string { return "WebKitGTK " + w.version }

func (w *webkit) Navigate(t testing.TB, url string) {
	t.Helper()
	if err := request(http.MethodPost, w.base+"/url", map[string]string{"url": url}, nil); err != nil {
		t.Fatalf("WebKit: navigate to %s: %v", url, err)
	}
}

// Eval runs the expression as a WebDriver script, which awaits the
// promise a script returns.
func (w *webkit) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	script := map[string]any{"script": "return (async () => (" + expr + "))();", "args": []any{}}
	if err := request(http.MethodPost, w.base+"/execute/sync", script, out); err != nil {
		t.Fatalf("WebKit: %s: %v", expr, err)
	}
}

// Errors: classic WebDriver has no way to read the console.
func (w *webkit) Errors(testing.TB) ([]string, bool) { return nil, false }

func (w *webkit) Screenshot(t testing.TB, name string) {
	t.Helper()
	var b64 string
	if err := request(http.MethodGet, w.base+"/screenshot", nil, &b64); err != nil {
		t.Errorf("WebKit: screenshot: %v", err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Errorf("WebKit: screenshot: %v", err)
		return
	}
	path := filepath.Join(ArtifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("screenshot: %s", path)
}
