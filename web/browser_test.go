package web_test

import (
	"context"
	"fmt"
	"image"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/web"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/weightstest"
)

// weightsFile is the real Megvii g3 0.5x as the server ships it (int8).
func weightsFile(t testing.TB) []byte { return weightstest.Megvii(t, weights.Int8) }

// startSite serves the real front end and weights on 127.0.0.1, and the
// shared photos at /examples/images/.
func startSite(t testing.TB) string {
	t.Helper()
	return startSiteWith(t, noWrap)
}

func noWrap(h http.Handler) http.Handler { return h }

// sharedPhotos are the names of the photos in ../shared/images.
func sharedPhotos(t testing.TB) []string {
	entries, err := os.ReadDir(shared.Path(t, "images"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// startSiteWith is startSite with the server's handler wrapped.
func startSiteWith(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	return startSiteServing(t, wrap, map[string][]byte{weightstest.MegviiFile: weightsFile(t)}, nil)
}

// startSiteServing is startSiteWith with these weights files, and these
// photos beside the shared ones.
func startSiteServing(t testing.TB, wrap func(http.Handler) http.Handler, files, morePhotos map[string][]byte) string {
	t.Helper()
	static, err := server.PrepareAssets(web.Static())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := static.Lookup("/gen/shufflenet.wasm"); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("the engine is not built into web/static/gen: run make wasm before the tests")
		}
		t.Skip("skipping: the engine is not built (make wasm)")
	}
	photos := maps.Clone(morePhotos)
	if photos == nil {
		photos = map[string][]byte{}
	}
	for _, name := range sharedPhotos(t) {
		photos[name] = shared.Read(t, "images/"+name)
	}
	srv, err := server.New(server.Config{Static: static, Weights: files, ExampleImages: photos})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(wrap(srv.Handler()))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

// openDemo loads the page and waits until the model is loaded.
func openDemo(t *testing.T, b *browsertest.Browser, url string) {
	t.Helper()
	b.Run(t, 60*time.Second,
		chromedp.Navigate(url),
		chromedp.WaitEnabled(chromedp.CSS(".file")),
	)
}

// topResult is the first row of the results list.
type topResult struct {
	Index int    `json:"index"`
	Label string `json:"label"`
	Prob  string `json:"prob"`
	Rows  int    `json:"rows"`
}

const readTop = `(() => {
	const li = document.querySelector('.top li');
	return li ? { index: +li.dataset.index, label: li.querySelector('.label').textContent,
		prob: li.querySelector('.prob').textContent, rows: document.querySelectorAll('.top li').length } : null;
})()`

// upload sends a file through the file input and waits for its result:
// the caption names the file and the results are no longer busy.
func upload(t *testing.T, b *browsertest.Browser, path string) topResult {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	done := fmt.Sprintf(`document.querySelector('.caption').textContent === %q && document.querySelector('.results').ariaBusy === 'false'`, filepath.Base(abs))
	b.Run(t, 30*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.caption').textContent = ''`),
		chromedp.SetUploadFiles(chromedp.CSS(".file"), []string{abs}),
		chromedp.Poll[chromedp.Void](done, chromedp.WithPollingTimeout(25*time.Second)),
	)
	return browsertest.Eval[topResult](t, b, 5*time.Second, readTop)
}

func TestPageLoadsWithoutErrors(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t)
	openDemo(t, b, url)
	progress := browsertest.Eval[[]float64](t, b, 5*time.Second, `[document.querySelector('#progress').value, document.querySelector('#progress').max]`)
	if progress[0] != progress[1] || progress[1] < 1e6 {
		t.Errorf("progress %v of %v bytes, want all of the wasm and weights", progress[0], progress[1])
	}
	// The workers run the SIMD128 kernels (Chromium has SIMD128).
	if status := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.status').textContent`); !strings.Contains(status, "with SIMD") {
		t.Errorf("status %q, want the SIMD kernels", status)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// catVideo is the cat photo as a Y4M video at fps frames a second, the
// format Chromium's fake camera plays.
func catVideo(t testing.TB, fps int) string {
	img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/chelsea.png"), preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(t.TempDir(), "cat.y4m")
	writeY4M(t, img, video, fps)
	return video
}

// fakeCamera are Chromium's flags for a camera that plays video, allowed
// without asking.
func fakeCamera(video string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	}
}

// writeY4M writes a picture as a few frames of an uncompressed Y4M video,
// the format Chromium's fake camera plays.
func writeY4M(t testing.TB, img image.Image, path string, fps int) {
	const size = 320
	rgba := preprocess.CenterCrop(img, size, size)
	var b strings.Builder
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", size, size, fps)
	y := make([]byte, size*size)
	u := make([]byte, size*size/4)
	v := make([]byte, size*size/4)
	for py := range size {
		for px := range size {
			p := rgba.Pix[py*rgba.Stride+4*px:]
			r, g, bl := float64(p[0]), float64(p[1]), float64(p[2])
			y[py*size+px] = byte(min(255, max(0, 0.299*r+0.587*g+0.114*bl)))
			if py%2 == 0 && px%2 == 0 {
				i := (py/2)*(size/2) + px/2
				u[i] = byte(min(255, max(0, 128-0.168736*r-0.331264*g+0.5*bl)))
				v[i] = byte(min(255, max(0, 128+0.5*r-0.418688*g-0.081312*bl)))
			}
		}
	}
	for range 10 {
		b.WriteString("FRAME\n")
		b.Write(y)
		b.Write(u)
		b.Write(v)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The webcam (Chromium's fake camera playing the cat photo) gives live
// predictions that keep coming, whose top-1 is the photo's, while no task
// on the page's main thread runs for more than 100 ms.
func TestWebcam(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t, fakeCamera(catVideo(t, 30))...)
	openDemo(t, b, url)
	b.Run(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`
		window.longTasks = [];
		new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
			.observe({ type: 'longtask', buffered: false });
	`))
	b.Run(t, 30*time.Second,
		chromedp.Click(chromedp.CSS(".camera")),
		chromedp.Poll[chromedp.Void](`document.querySelector('.fps').textContent.includes('frames/s')`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	first := browsertest.Eval[topResult](t, b, 5*time.Second, readTop)
	// Predictions keep updating: the frame count moves on.
	time.Sleep(3 * time.Second)
	fps := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.fps').textContent`)
	top := browsertest.Eval[topResult](t, b, 5*time.Second, readTop)
	longest := browsertest.Eval[float64](t, b, 5*time.Second, `Math.max(0, ...window.longTasks)`)
	t.Logf("webcam: %s, top-1 %d %s (%s) then %d %s; longest main-thread task %.0f ms", fps, first.Index, first.Label, first.Prob, top.Index, top.Label, longest)
	if top.Index < 281 || top.Index > 285 {
		t.Errorf("webcam top-1 %+v, want the photo's cat", top)
	}
	if longest > 100 {
		t.Errorf("a main-thread task took %.0f ms while the webcam ran", longest)
	}
	b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".camera")))
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// BenchmarkWebcam measures the live frames/s with one inference worker and
// with two (the page's default), with the SIMD128 kernels and with the
// plain Go ones. The fake camera plays at 60 frames/s and the page takes
// at most one frame per display frame (60/s): with the SIMD128 kernels a
// frame costs a few ms, so the camera is the limit for one worker already;
// with the plain Go kernels inference is the limit, which shows what a
// second worker adds. Run with -benchtime 1x; each iteration watches the
// page for four seconds after it warms up.
func BenchmarkWebcam(b *testing.B) {
	url := startSite(b)
	video := catVideo(b, 60)
	for _, c := range []struct {
		kernels string
		workers int
	}{{"simd128", 1}, {"simd128", 2}, {"off", 1}, {"off", 2}} {
		b.Run(fmt.Sprintf("kernels=%s/workers=%d", c.kernels, c.workers), func(b *testing.B) {
			br := browsertest.New(b, fakeCamera(video)...)
			br.Run(b, 60*time.Second,
				chromedp.Navigate(fmt.Sprintf("%s?workers=%d&simd128=%s", url, c.workers, c.kernels)),
				chromedp.WaitEnabled(chromedp.CSS(".camera")),
				chromedp.Click(chromedp.CSS(".camera")),
				chromedp.Poll[chromedp.Void](`document.querySelector('.fps').textContent.includes('frames/s')`, chromedp.WithPollingTimeout(30*time.Second)),
			)
			var frames float64
			for b.Loop() {
				time.Sleep(2 * time.Second) // warm up
				start := browsertest.Eval[float64](b, br, 5*time.Second, `window.shufflenetFrames ?? 0`)
				time.Sleep(4 * time.Second)
				end := browsertest.Eval[float64](b, br, 5*time.Second, `window.shufflenetFrames ?? 0`)
				frames = (end - start) / 4
			}
			b.ReportMetric(frames, "frames/s")
		})
	}
}
