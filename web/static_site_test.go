package web_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// exportSite writes the site as shufflenet export does (server.WriteSite
// with the model list as /models.json), with the shared photos where the
// example docs page looks for them, and returns its folder.
func exportSite(t *testing.T) string {
	t.Helper()
	static, err := server.PrepareAssets(web.Static())
	if err != nil {
		t.Fatal(err)
	}
	if static.Engine() == nil {
		t.Skip("skipping: the engine is not built (make wasm)")
	}
	files := map[string][]byte{weightstest.MegviiFile: weightsFile(t)}
	weightsAssets, err := server.PrepareWeights(files)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Static: static, Weights: files})
	if err != nil {
		t.Fatal(err)
	}
	list, err := server.ModelListAssets(srv.ModelList())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "site")
	if err := server.WriteSite(dir, static, weightsAssets, list); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "examples", "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range sharedPhotos(t) {
		if err := os.WriteFile(filepath.Join(dir, "examples", "images", name), shared.Read(t, "images/"+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pythonServer serves dir with python3 -m http.server on 127.0.0.1: a
// plain static server, with no headers of ours and no routes.
func pythonServer(t *testing.T, dir string) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipping: no python3")
	}
	return startHTTPCommand(t, func(port string) *exec.Cmd {
		return exec.Command(python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, port)
	}) + "/"
}

// startHTTPCommand starts a program that serves HTTP on 127.0.0.1 at the
// port it is given, ends it when the test does, and returns its URL (no
// slash at the end) once it answers.
func startHTTPCommand(t testing.TB, command func(port string) *exec.Cmd) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := command(port)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/"); err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer at %s", cmd.Path, url)
		}
	}
}

// The exported site works from plain static servers: python3 -m
// http.server, and one that sends .wasm files as
// application/octet-stream (compileStreaming refuses those): the page
// classifies a photo with the SIMD128 kernels, and the example docs page's
// widgets show their labels. In Chromium and Firefox.
func TestExportOnPlainStaticServers(t *testing.T) {
	dir := exportSite(t)
	wrongMIME := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer wrongMIME.Close()
	sites := []struct{ name, url string }{
		{"python3 -m http.server", pythonServer(t, dir)},
		{"wasm as application/octet-stream", wrongMIME.URL + "/"},
	}
	for _, br := range browsers[:2] {
		t.Run(br.name, func(t *testing.T) {
			d := br.start(t, browsertest.Options{})
			for _, site := range sites {
				if kernels := openPage(t, d, site.url); kernels != br.kernels {
					t.Errorf("%s, %s: the %q kernels run, want %s", d.Name(), site.name, kernels, br.kernels)
				}
				got := handOver(t, d, "upload", site.url+"examples/images/chelsea.png", "chelsea.png", "chelsea.png")
				if got.Top[0].Index < 281 || got.Top[0].Index > 285 {
					t.Errorf("%s, %s: the page says %+v, want a cat", d.Name(), site.name, got.Top[0])
				}
				d.Navigate(t, site.url+"examples/docs.html")
				for _, id := range []string{"cat", "coffee"} {
					d.Eval(t, fmt.Sprintf(`(document.getElementById(%q).scrollIntoView(), true)`, id), nil)
					browsertest.Poll(t, d, fmt.Sprintf(`document.getElementById(%q).shadowRoot.querySelector('.top li')`, id), 60*time.Second)
				}
			}
			if errs, ok := d.Errors(t); ok && len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
