package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// axeSource is npm's axe-core (web/package.json; make test installs it).
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed (npm ci --prefix web): %v", err)
		}
		t.Skipf("skipping: axe-core is not installed (npm ci --prefix web): %v", err)
	}
	return string(src)
}

// violation is one rule axe-core found broken, with where.
type violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axeViolations runs axe-core's WCAG 2.1 A and AA rules on the page the
// browser shows, shadow roots included.
func axeViolations(t *testing.T, b *browsertest.Browser, src string) []violation {
	t.Helper()
	b.Run(t, 30*time.Second, chromedp.Evaluate[chromedp.Void](src))
	raw := browsertest.Eval[string](t, b, 60*time.Second, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => JSON.stringify(r.violations))`)
	var v []violation
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func reportViolations(t *testing.T, page string, vs []violation) {
	t.Helper()
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, n.HTML)
		}
		t.Errorf("%s: %s (%s): %s", page, v.ID, v.Help, strings.Join(where, " | "))
	}
}

// The page, the widget page and the iframe embed break none of axe-core's
// WCAG 2.1 AA rules, before and after a photo is classified.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	main := startSite(t)
	docs := docsSite(t, main)
	b := browsertest.New(t)

	openDemo(t, b, main)
	reportViolations(t, "the page", axeViolations(t, b, src))
	upload(t, b, shared.Path(t, "images/chelsea.png"))
	reportViolations(t, "the page with a result", axeViolations(t, b, src))

	// The example documentation page: widgets with a picture, one with a
	// heat map, one with upload and webcam.
	b.Run(t, 60*time.Second, chromedp.Navigate(docs+"docs.html"))
	for _, id := range []string{"cat", "coffee", "motorcycle"} {
		widgetTop(t, b, id)
	}
	for _, id := range []string{"yours", "dark"} { // with controls; the dark theme
		b.Run(t, 60*time.Second,
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).scrollIntoView()`, id)),
			chromedp.Poll[chromedp.Void](widgetQuery(id, ".file:not([disabled])"), chromedp.WithPollingTimeout(50*time.Second)),
		)
	}
	reportViolations(t, "docs.html", axeViolations(t, b, src))

	// The iframe form of the widget.
	b.Run(t, 60*time.Second,
		chromedp.Navigate(main+"embed?src="+docs+"images/chelsea.png&top=3"),
		chromedp.Poll[chromedp.Void](`document.querySelector('shufflenet-classifier')?.shadowRoot?.querySelector('li')`, chromedp.WithPollingTimeout(50*time.Second)),
	)
	reportViolations(t, "the iframe embed", axeViolations(t, b, src))
}

// With the keyboard alone, Tab reaches the page's controls in order: the
// file input (the drop zone's way in), the webcam, the heat map and the
// model picker; Enter on the webcam button starts it.
func TestKeyboardReachesEveryControl(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true))
	openDemo(t, b, url)
	var reached []string
	for range 12 {
		b.Run(t, 5*time.Second, chromedp.KeyEvent(kb.Tab))
		if id := browsertest.Eval[string](t, b, 5*time.Second, `document.activeElement.classList[0] ?? ''`); id != "" && !slices.Contains(reached, id) {
			reached = append(reached, id)
		}
	}
	want := []string{"file", "camera", "heatmap", "model"}
	var got []string
	for _, id := range reached {
		if slices.Contains(want, id) {
			got = append(got, id)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Tab reached %v, want %v in that order", reached, want)
	}
	b.Run(t, 30*time.Second,
		chromedp.Focus(chromedp.CSS(".camera")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.Poll[chromedp.Void](`document.querySelector('.camera').getAttribute('aria-pressed') === 'true'`, chromedp.WithPollingTimeout(20*time.Second)),
	)
}
