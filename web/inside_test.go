package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
)

// insideView is what the explorer shows, as the test reads it.
type insideView struct {
	Stages   []mosaicView `json:"stages"`
	Steps    []mosaicView `json:"steps"`
	Figure1  string       `json:"figure1"`
	Readers  [][]string   `json:"readers"` // Figure 1's table: each reading group's cells, "with (without)"
	Top      int          `json:"top"`
	Ablation []int        `json:"ablation"`
	Unit     string       `json:"unit"`
	Address  string       `json:"address"`
	Rows     int          `json:"rows"` // the architecture table's rows
	Current  string       `json:"current"`
	Shuffle  bool         `json:"shuffle"`
	Timing   string       `json:"timing"`
}

type mosaicView struct {
	Width   int    `json:"width"`
	Label   string `json:"label"`
	Caption string `json:"caption"`
}

const readInside = `(() => {
	const mosaic = (id) => { const c = document.getElementById(id);
		return { width: c.width, label: c.getAttribute('aria-label'), caption: c.nextElementSibling.textContent }; };
	return {
		stages: [1, 2, 3, 4].map((i) => mosaic('stage-' + i)),
		steps: [1, 2, 3, 4].map((i) => mosaic('step-' + i)),
		figure1: document.querySelector('.figure1 canvas').getAttribute('aria-label'),
		readers: [...document.querySelectorAll('.figure1-table tbody tr')].map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
		top: +(document.querySelector('.classifier .top li')?.dataset.index ?? -1),
		ablation: [...document.querySelectorAll('.ablation li')].map((li) => +li.dataset.index),
		unit: document.querySelector('.inside select.unit').value,
		address: location.search,
		rows: document.querySelectorAll('.arch-table tbody tr').length,
		current: document.querySelector('.arch-table tr[aria-current=true] th')?.textContent ?? '',
		shuffle: !document.querySelector('.no-shuffle').checked,
		timing: document.querySelector('.inside .timing').textContent,
	};
})()`

// The explorer at /inside/: a photo goes through the network, the stage
// thumbnails and the chosen unit's steps appear with text alternatives,
// Figure 1 comes from the engine's permutation, switching the shuffle off
// gives the native no-shuffle network's first class, the view lives in the
// address (and comes back from it), the keyboard picks another unit, and
// axe-core finds no WCAG 2.1 AA violation.
func TestInside(t *testing.T) {
	photo := "images/chelsea.png"
	native, nativeAblation := nativeTop1(t, shared.Read(t, photo)), nativeFirstClass(t, shared.Read(t, photo), (*weights.Model).NetworkWithoutShuffle).Index
	axe := axeSource(t)
	site := startSite(t)
	b := browsertest.New(t, fakeCamera(catVideo(t, 30))...)
	b.Run(t, 60*time.Second,
		chromedp.Navigate(site+"inside/?unit=stage3.unit1"),
		chromedp.WaitEnabled(chromedp.CSS(".file")),
	)
	upload(t, b, shared.Path(t, photo))
	view := readView(t, b, `document.getElementById('step-4').width > 1`)
	for i, m := range view.Stages {
		if m.Width <= 1 || !strings.Contains(m.Label, "maps of") || !strings.Contains(m.Label, "strongest maps are channels") {
			t.Errorf("stage %d's thumbnail: width %d, text alternative %q", i+1, m.Width, m.Label)
		}
	}
	for i, want := range []string{"Compress", "Shuffled", "3×3", "Unit output"} {
		if m := view.Steps[i]; m.Width <= 1 || !strings.Contains(m.Caption, want) {
			t.Errorf("step %d of the unit: width %d, caption %q, want it to name %q", i+1, m.Width, m.Caption, want)
		}
	}
	if view.Top != native.Index {
		t.Errorf("the explorer's pass gives class %d first, the native engine %d", view.Top, native.Index)
	}
	// Figure 1's numbers: with the shuffle every group of the next conv
	// reads some channels of every group; without it, only its own.
	if len(view.Readers) != 3 || !strings.Contains(view.Figure1, "stage3.unit1") {
		t.Errorf("Figure 1: %q with table rows %q", view.Figure1, view.Readers)
	}
	for k, row := range view.Readers {
		for i, cell := range row {
			var with, without int
			if _, err := fmt.Sscanf(cell, "%d (%d)", &with, &without); err != nil || with == 0 || (without != 0) != (i == k) {
				t.Errorf("Figure 1's table, group %d reading group %d: %q", k+1, i+1, cell)
			}
		}
	}
	// The stem, 3 stage headings, 16 units, the pool and the classifier.
	if view.Rows != 1+3+16+2 || view.Current != "stage3.unit1" {
		t.Errorf("the architecture table has %d rows, marking %q as the unit shown", view.Rows, view.Current)
	}
	screenshotExplorer(t, b)

	// The ablation: the switch off, the same weights without the shuffle.
	b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".no-shuffle")))
	view = readView(t, b, `document.querySelectorAll('.ablation li').length === 5 && !document.querySelector('.ablation').hidden`)
	if view.Ablation[0] != nativeAblation {
		t.Errorf("without the shuffle the page gives class %d first, the native engine %d", view.Ablation[0], nativeAblation)
	}
	if view.Ablation[0] == native.Index {
		t.Errorf("without the shuffle the first class is still %d: the ablation did nothing", native.Index)
	}
	var ref map[string]struct {
		Chelsea struct {
			NoShuffleTop5 []int `json:"noshuffle_top5"`
		} `json:"chelsea"`
	}
	if err := json.Unmarshal(shared.Read(t, "testdata/stages/reference.json"), &ref); err != nil {
		t.Fatal(err)
	}
	if want := ref["megvii_g3_0.5x"].Chelsea.NoShuffleTop5[0]; view.Ablation[0] != want {
		t.Errorf("without the shuffle the page gives class %d first, PyTorch %d", view.Ablation[0], want)
	}
	if !strings.Contains(view.Address, "shuffle=off") || !strings.Contains(view.Address, "unit=stage3.unit1") {
		t.Errorf("the address %q does not hold the view", view.Address)
	}
	reportViolations(t, "/inside/", axeViolations(t, b, axe))

	// The keyboard alone picks the next unit, and the maps follow.
	b.Run(t, 10*time.Second,
		chromedp.Focus(chromedp.CSS(".inside select.unit")),
		chromedp.KeyEvent(kb.ArrowDown),
	)
	view = readView(t, b, `document.querySelector('#unit-title').textContent === 'Inside stage3.unit2'`)
	if view.Unit != "stage3.unit2" || !strings.Contains(view.Address, "unit=stage3.unit2") {
		t.Errorf("after ArrowDown on the unit menu: unit %q, address %q", view.Unit, view.Address)
	}

	// The address brings the view back.
	b.Run(t, 60*time.Second,
		chromedp.Navigate(site+"inside/"+view.Address),
		chromedp.WaitEnabled(chromedp.CSS(".file")),
	)
	upload(t, b, shared.Path(t, photo))
	view = readView(t, b, `document.querySelectorAll('.ablation li').length === 5`)
	if view.Shuffle || view.Unit != "stage3.unit2" || view.Ablation[0] != nativeAblation {
		t.Errorf("from the address %q: shuffle %v, unit %q, first class without the shuffle %v", view.Address, view.Shuffle, view.Unit, view.Ablation)
	}

	// Live from the webcam, every frame is looked inside, and the page's
	// own thread stays free (the worker computes and draws the maps).
	b.Run(t, 30*time.Second,
		chromedp.Evaluate[chromedp.Void](`
			window.longTasks = [];
			new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
				.observe({ type: 'longtask', buffered: false });`),
		chromedp.Click(chromedp.CSS(".camera")),
		chromedp.Poll[chromedp.Void](`document.querySelector('.fps').textContent.includes('frames/s')`, chromedp.WithPollingTimeout(25*time.Second)),
	)
	before := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.inside .timing').textContent`)
	b.Run(t, 20*time.Second, chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('.inside .timing').textContent !== %q`, before), chromedp.WithPollingTimeout(15*time.Second)))
	live := browsertest.Eval[insideView](t, b, 5*time.Second, readInside)
	fps := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.fps').textContent`)
	longest := browsertest.Eval[float64](t, b, 5*time.Second, `Math.max(0, ...window.longTasks)`)
	t.Logf("live: %s, first class without the shuffle %v; longest main-thread task %.0f ms", fps, live.Ablation, longest)
	if longest > 200 {
		t.Errorf("a main-thread task took %.0f ms while the explorer ran live", longest)
	}
	b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".camera")))
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %s", strings.Join(errs, "\n"))
	}
}

// readView waits until ready holds, then reads the explorer.
func readView(t *testing.T, b *browsertest.Browser, ready string) insideView {
	t.Helper()
	b.Run(t, 30*time.Second, chromedp.Poll[chromedp.Void](ready+` && document.querySelector('.results').ariaBusy === 'false'`, chromedp.WithPollingTimeout(25*time.Second)))
	v := browsertest.Eval[insideView](t, b, 5*time.Second, readInside)
	t.Logf("unit %s, shuffle %v: %s", v.Unit, v.Shuffle, v.Timing)
	if len(v.Stages) != 4 || len(v.Steps) != 4 {
		t.Fatalf("the explorer shows %d stages and %d steps", len(v.Stages), len(v.Steps))
	}
	return v
}

// screenshotExplorer saves the picture and the explorer down to Figure 1
// as artifacts/inside.jpg, the README's screenshot.
func screenshotExplorer(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	clip := browsertest.Eval[page.Viewport](t, b, 5*time.Second, `(() => {
		const top = document.querySelector('#classifier').getBoundingClientRect();
		const bottom = document.querySelector('.figure1').getBoundingClientRect();
		return { x: top.x + scrollX - 8, y: top.y + scrollY - 8, width: top.width + 16, height: bottom.bottom - top.y + 16, scale: 0.75 };
	})()`)
	quality, yes := int64(72), true
	jpeg, err := chromedp.Run(b.Ctx, chromedp.Action[[]byte](func(ctx context.Context, target *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, target, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatJpeg, Quality: &quality, CaptureBeyondViewport: &yes, FromSurface: &yes, Clip: &clip})
		if err != nil {
			return nil, err
		}
		return res.Data, nil
	}))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := browsertest.ArtifactDir(t) + "/inside.jpg"
	if err := os.WriteFile(path, jpeg, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", path)
}
