package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// writeFiles writes files (path: contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// integration is a file users copy from web/integrations.
func integration(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("integrations", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A documentation generator, and how to build a site with two widgets
// with it: the cat (top 3) and the coffee cup (with its heat map), the
// widget's assets coming from host.
type generator struct {
	name, command string
	// build writes the site's sources into src, with the photos
	// chelsea.png and coffee.png where photos goes, and answers the
	// command line that builds the site into out.
	build func(t *testing.T, src, out, host string) (photos string, args []string)
	// page is the built page with the widgets.
	page string
}

var generators = []generator{
	{
		name: "MkDocs", command: "mkdocs", page: "index.html",
		build: func(t *testing.T, src, out, host string) (string, []string) {
			writeFiles(t, src, map[string]string{
				// Its theme's highlight.js would come from a CDN, unreachable here.
				"mkdocs.yml": "site_name: Photos\ntheme:\n  name: mkdocs\n  highlightjs: false\n",
				"docs/index.md": fmt.Sprintf(`# Photos

<script type="module" src="%sembed.js"></script>

A cat:

<shufflenet-classifier top="3"><img src="images/chelsea.png" alt="A cat"></shufflenet-classifier>

A cup, and where the network looked:

<shufflenet-classifier top="3" heatmap><img src="images/coffee.png" alt="A cup of espresso"></shufflenet-classifier>
`, host),
			})
			return "docs/images", []string{"build", "--quiet", "--config-file", filepath.Join(src, "mkdocs.yml"), "--site-dir", out}
		},
	},
	{
		name: "Sphinx", command: "sphinx-build", page: "index.html",
		build: func(t *testing.T, src, out, host string) (string, []string) {
			writeFiles(t, src, map[string]string{
				"shufflenet_sphinx.py": integration(t, "sphinx/shufflenet_sphinx.py"),
				"conf.py": fmt.Sprintf(`import os, sys
sys.path.insert(0, os.path.abspath('.'))
project = 'Photos'
extensions = ['shufflenet_sphinx']
shufflenet_host = %q
html_static_path = ['_static']
`, host),
				"index.rst": `Photos
======

A cat:

.. shufflenet:: _static/chelsea.png
   :alt: A cat
   :top: 3

A cup, and where the network looked:

.. shufflenet:: _static/coffee.png
   :alt: A cup of espresso
   :top: 3
   :heatmap:
`,
			})
			return "_static", []string{"-b", "html", "-q", src, out}
		},
	},
	{
		name: "Hugo", command: "hugo", page: "index.html",
		build: func(t *testing.T, src, out, host string) (string, []string) {
			writeFiles(t, src, map[string]string{
				"layouts/shortcodes/shufflenet.html": integration(t, "hugo/layouts/shortcodes/shufflenet.html"),
				"config.toml":                        fmt.Sprintf("baseURL = '/'\ntitle = 'Photos'\n[params]\nshufflenetHost = %q\n", host),
				"layouts/index.html":                 `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Site.Title }}</title></head><body><main>{{ .Content }}</main></body></html>`,
				"content/_index.md": `# Photos

A cat:

{{< shufflenet src="/images/chelsea.png" alt="A cat" top="3" >}}

A cup, and where the network looked:

{{< shufflenet src="/images/coffee.png" alt="A cup of espresso" top="3" heatmap="true" >}}
`,
			})
			return "static/images", []string{"--quiet", "--source", src, "--destination", out}
		},
	},
}

// Sites built with MkDocs, Sphinx and Hugo, from the integration pieces
// in web/integrations, each with two widgets on a page, served by a plain
// static server while the widget's assets come from another origin: both
// widgets show their labels, in Chromium and Firefox.
func TestDocsGenerators(t *testing.T) {
	host := startSite(t)
	type site struct{ name, url string }
	var sites []site
	for _, g := range generators {
		bin, err := exec.LookPath(g.command)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI (make test-deps installs it)", g.name)
			}
			t.Logf("skipping %s: %s is not installed", g.name, g.command)
			continue
		}
		src, out := t.TempDir(), filepath.Join(t.TempDir(), "site")
		photos, args := g.build(t, src, out, host)
		for _, name := range []string{"chelsea.png", "coffee.png"} {
			writeFiles(t, filepath.Join(src, photos), map[string]string{name: string(shared.Read(t, "images/"+name))})
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = src
		if output, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", g.name, err, output)
		}
		writeFiles(t, out, map[string]string{"favicon.ico": ""}) // no 404 in the console
		sites = append(sites, site{g.name, pythonServer(t, out) + g.page})
	}
	for _, br := range browsers[:2] {
		t.Run(br.name, func(t *testing.T) {
			d := br.start(t, browsertest.Options{})
			for _, s := range sites {
				d.Navigate(t, s.url)
				var count int
				d.Eval(t, `document.querySelectorAll('shufflenet-classifier').length`, &count)
				if count != 2 {
					t.Fatalf("%s: %d widgets on the page, want 2", s.name, count)
				}
				for i, want := range []struct{ lo, hi int }{{281, 285}, {967, 968}} {
					widget := fmt.Sprintf(`document.querySelectorAll('shufflenet-classifier')[%d]`, i)
					d.Eval(t, `(`+widget+`.scrollIntoView(), true)`, nil)
					browsertest.Poll(t, d, widget+`.shadowRoot.querySelector('.top li')`, 60*time.Second)
					var index int
					d.Eval(t, `+`+widget+`.shadowRoot.querySelector('.top li').dataset.index`, &index)
					if index < want.lo || index > want.hi {
						t.Errorf("%s, %s: widget %d says class %d, want %d-%d", d.Name(), s.name, i, index, want.lo, want.hi)
					}
				}
			}
			if errs, ok := d.Errors(t); ok && len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}

// A docs page with a strict Content-Security-Policy, allowing only the
// lines the README gives, shows the widget's labels in Chromium and
// Firefox.
func TestWidgetUnderStrictCSP(t *testing.T) {
	host := startSite(t)
	assets := strings.TrimSuffix(host, "/")
	policy := "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " + assets + "; connect-src 'self' " + assets + "; worker-src blob:"
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/images/") {
			http.ServeFile(w, r, shared.Path(t, "images/"+strings.TrimPrefix(r.URL.Path, "/images/")))
			return
		}
		w.Header().Set("Content-Security-Policy", policy)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>strict</title>
<script type="module" src="%sembed.js"></script>
<main><shufflenet-classifier id="cat" src="/images/chelsea.png" top="3"></shufflenet-classifier></main></html>`, host)
	}))
	defer page.Close()
	for _, br := range browsers[:2] {
		t.Run(br.name, func(t *testing.T) {
			d := br.start(t, browsertest.Options{})
			d.Navigate(t, page.URL)
			browsertest.Poll(t, d, `document.getElementById('cat').shadowRoot.querySelector('.top li')`, 60*time.Second)
			var index int
			d.Eval(t, `+document.getElementById('cat').shadowRoot.querySelector('.top li').dataset.index`, &index)
			if index < 281 || index > 285 {
				t.Errorf("%s: class %d, want a cat", d.Name(), index)
			}
			if errs, ok := d.Errors(t); ok && len(errs) > 0 {
				t.Errorf("console errors (a policy violation?): %v", errs)
			}
		})
	}
}
