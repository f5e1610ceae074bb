// Command browserbench runs a package's Go benchmarks (or tests) inside
// headless Chromium: it builds the package's test binary for
// GOOS=js GOARCH=wasm, serves it on 127.0.0.1 with a page that starts it
// the way go_js_wasm_exec does under Node (with the engine's SIMD128
// kernels linked in, see web/static/simd128.js), and prints what it prints.
// The page is cross-origin isolated, so the browser's clock is precise.
//
//	go run ./internal/browserbench [-pkg ./engine] [-simd128=fused|plain|off] -- -test.run '^$' -test.bench Forward
//
// make bench runs it. Every run starts a fresh browser with an empty
// profile.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/simd128"
)

//go:embed page.html run.js
var page embed.FS

func main() {
	pkg := flag.String("pkg", "./engine", "the package whose test binary runs")
	simd128 := flag.String("simd128", "fused", "fused: the SIMD128 kernels' fused build (Chromium's); plain: their plain build; off: the plain Go kernels")
	timeout := flag.Duration("timeout", 20*time.Minute, "how long the binary may run")
	flag.Parse()
	if !slices.Contains([]string{"fused", "plain", "off"}, *simd128) {
		fmt.Fprintf(os.Stderr, "browserbench: -simd128 is fused, plain or off, not %q\n", *simd128)
		os.Exit(2)
	}
	if err := run(*pkg, *simd128, *timeout, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "browserbench:", err)
		os.Exit(1)
	}
}

func run(pkg, kernelBuild string, timeout time.Duration, args []string) error {
	dir, err := os.MkdirTemp("", "browserbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	binary := filepath.Join(dir, "test.wasm")
	build := exec.Command("go", "test", "-c", "-o", binary, pkg)
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the test binary of %s: %w", pkg, err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	kernels, err := simd128.Module(kernelBuild == "fused")
	if err != nil {
		return fmt.Errorf("write the SIMD128 kernels: %w", err)
	}
	kernelsFile := filepath.Join(dir, "simd128.wasm")
	if err := os.WriteFile(kernelsFile, kernels, 0o644); err != nil {
		return err
	}
	url, stop, err := serve(map[string]string{
		"/test.wasm":    binary,
		"/simd128.wasm": kernelsFile,
		"/wasm_exec.js": filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"),
		"/simd128.js":   filepath.Join(root, "web", "static", "simd128.js"),
	})
	if err != nil {
		return err
	}
	defer stop()

	query := "?"
	for _, a := range args {
		query += "arg=" + urlEscape(a) + "&"
	}
	if kernelBuild == "off" {
		query += "simd128=off"
	}
	return browse(url+"/"+query, dir, timeout)
}

// serve serves the page and files on a free port of 127.0.0.1, with the
// headers that make the page cross-origin isolated.
func serve(files map[string]string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	static := http.FileServerFS(page)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case r.URL.Path == "/":
			r.URL.Path = "/page.html"
			static.ServeHTTP(w, r)
		case files[r.URL.Path] != "":
			if strings.HasSuffix(r.URL.Path, ".wasm") {
				w.Header().Set("Content-Type", "application/wasm")
			}
			http.ServeFile(w, r, files[r.URL.Path])
		default:
			static.ServeHTTP(w, r)
		}
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// browse opens url in a fresh headless Chromium, relays the binary's
// output as it comes, and fails if it exits with an error.
func browse(url, dir string, timeout time.Duration) error {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium()),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.NoSandbox,
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		return fmt.Errorf("start Chromium: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("open the page: %w", err)
	}
	deadline := time.Now().Add(timeout)
	printed := 0
	for {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Output string `json:"output"`
			Exit   *int   `json:"exit"`
		}](`({output: window.output || '', exit: window.exitCode ?? null})`))
		if err != nil {
			return fmt.Errorf("read the page: %w", err)
		}
		fmt.Print(state.Output[printed:])
		printed = len(state.Output)
		if state.Exit != nil {
			if *state.Exit != 0 {
				return fmt.Errorf("the test binary exited with status %d", *state.Exit)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no exit after %v", timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F").Replace(s)
}
