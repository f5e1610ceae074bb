package web_test

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/image/draw"

	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
)

// taughtClasses are the Teach mode test's classes, each made of one shared
// photo's crops.
var taughtClasses = []struct{ name, photo string }{
	{"cat", "chelsea.png"},
	{"coffee", "coffee.png"},
	{"motorbike", "motorcycle_left.png"},
}

// exampleCrops writes n crops of a photo (different corners and scales) as
// PNG files and answers their paths.
func exampleCrops(t *testing.T, photo string, n int) []string {
	t.Helper()
	img, err := preprocess.Decode(context.Background(), shared.Read(t, "images/"+photo), preprocess.DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dir := t.TempDir()
	var paths []string
	for i := range n {
		// From 90 % of the photo down to 60 %, moving along its diagonal.
		f := 0.9 - 0.3*float64(i)/float64(max(1, n-1))
		w, h := int(f*float64(b.Dx())), int(f*float64(b.Dy()))
		x0 := b.Min.X + (b.Dx()-w)*i/max(1, n-1)
		y0 := b.Min.Y + (b.Dy()-h)*(n-1-i)/max(1, n-1)
		out := image.NewRGBA(image.Rect(0, 0, 200, 200*h/w))
		draw.ApproxBiLinear.Scale(out, out.Rect, img, image.Rect(x0, y0, x0+w, y0+h), draw.Src, nil)
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", strings.TrimSuffix(photo, filepath.Ext(photo)), i))
		f2, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f2, out); err != nil {
			t.Fatal(err)
		}
		f2.Close()
		paths = append(paths, path)
	}
	return paths
}

// captureDownloads makes the page's downloads (an anchor's click on a
// blob: URL, as the Teach mode's Export does) readable by the test as
// window.downloads: [{name, text}], from the Blob itself (the page's CSP
// lets nothing fetch blob: URLs).
const captureDownloads = `(() => {
	window.downloads = [];
	const blobs = new Map();
	const objectURL = URL.createObjectURL;
	URL.createObjectURL = (blob) => { const url = objectURL(blob); blobs.set(url, blob); return url; };
	HTMLAnchorElement.prototype.click = function () {
		const name = this.download;
		blobs.get(this.href)?.text().then((text) => window.downloads.push({ name, text }));
	};
	return true;
})()`

// The Teach mode: three classes named and given pictures through their
// file inputs (an empty class is refused by name first), a head trained in
// the page's worker, exported, and answering for the photos; the native
// engine with the exported head gives the same class and probability
// within 0.01 (what shufflenet classify --head computes); a head for
// another model is refused on import; and a widget with head= answers with
// the head's classes.
func TestTeach(t *testing.T) {
	site := startSite(t)
	b := browsertest.New(t, fakeCamera(catVideo(t, 30))...)
	openDemo(t, b, site)
	b.Run(t, 10*time.Second,
		chromedp.Evaluate[chromedp.Void](captureDownloads),
		chromedp.Click(chromedp.CSS(".teach .add")),
	)
	row := func(i int, sel string) string { return fmt.Sprintf(".teach li.class:nth-child(%d) %s", i+1, sel) }
	for i, c := range taughtClasses {
		b.Run(t, 10*time.Second, chromedp.SetValue(chromedp.CSS(row(i, ".name")), c.name))
		if i == len(taughtClasses)-1 {
			// The last class has no examples yet: training is refused, naming it.
			b.Run(t, 20*time.Second,
				chromedp.Click(chromedp.CSS(".teach .train")),
				chromedp.Poll[chromedp.Void](`document.querySelector('.teach .error').textContent.includes('"motorbike" has no examples')`, chromedp.WithPollingTimeout(15*time.Second)),
			)
		}
		b.Run(t, 60*time.Second,
			chromedp.SetUploadFiles(chromedp.CSS(row(i, ".examples")), exampleCrops(t, c.photo, 4)),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).textContent === '4 examples'`, row(i, ".count")), chromedp.WithPollingTimeout(50*time.Second)),
		)
	}
	b.Run(t, 60*time.Second,
		chromedp.Click(chromedp.CSS(".teach .train")),
		chromedp.Poll[chromedp.Void](`document.querySelector('.teach .status').textContent.startsWith('Trained on 12 examples')`, chromedp.WithPollingTimeout(50*time.Second)),
		chromedp.Click(chromedp.CSS(".teach .export")),
		chromedp.Poll[chromedp.Void](`window.downloads.length === 1`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	t.Log(browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.teach .status').textContent`))
	reportViolations(t, "the Teach mode, trained", axeViolations(t, b, axeSource(t)))
	exported := browsertest.Eval[string](t, b, 5*time.Second, `window.downloads[0].text`)
	file, err := weights.DecodeHead([]byte(exported))
	if err != nil {
		t.Fatalf("the exported head: %v", err)
	}

	// The photos themselves, classified in the page with the head, and
	// natively with the exported file.
	m, err := weights.Decode(weightsFile(t))
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.Network()
	if err != nil {
		t.Fatal(err)
	}
	// The last photo is none of the classes: its probabilities are spread,
	// which makes the comparison tell.
	for _, c := range append(taughtClasses, struct{ name, photo string }{"", "grace_hopper.jpg"}) {
		got := upload(t, b, shared.Path(t, "images/"+c.photo))
		input, err := preprocess.Tensor(context.Background(), shared.Read(t, "images/"+c.photo), m.Arch.Input, preprocess.DefaultMaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Forward(input); err != nil {
			t.Fatal(err)
		}
		features, err := net.Features()
		if err != nil {
			t.Fatal(err)
		}
		native, err := file.Head.Top(features, 1)
		if err != nil {
			t.Fatal(err)
		}
		prob, _ := strconv.ParseFloat(strings.TrimSuffix(got.Prob, "%"), 64)
		t.Logf("%s: page %s %.1f%%, native %s %.4f", c.photo, got.Label, prob, native[0].Label, native[0].Prob)
		if (c.name != "" && got.Label != c.name) || got.Label != native[0].Label || math.Abs(prob/100-native[0].Prob) > 0.01 {
			t.Errorf("%s: the page says %s (%s), the native engine with the exported head %s (%.4f); want %s", c.photo, got.Label, got.Prob, native[0].Label, native[0].Prob, c.name)
		}
	}

	// A head for another model (its checksum changed) is refused on import.
	other := file
	other.Base.SHA256 = strings.Repeat("0", 64)
	data, err := weights.EncodeHead(other)
	if err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "other-head.json")
	if err := os.WriteFile(wrong, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b.Run(t, 20*time.Second,
		chromedp.SetUploadFiles(chromedp.CSS(".teach .import"), []string{wrong}),
		chromedp.Poll[chromedp.Void](`document.querySelector('.teach .error').textContent.includes('other-head.json cannot be used')`, chromedp.WithPollingTimeout(15*time.Second)),
	)
	t.Log(browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.teach .error').textContent`))
	// The refused file changed nothing: the trained head still answers.
	if got := upload(t, b, shared.Path(t, "images/coffee.png")); got.Label != "coffee" {
		t.Errorf("after a refused import the page says %q, want the trained head's coffee", got.Label)
	}

	// Holding a class's webcam button (the fake camera plays the cat)
	// adds frames as examples until it is let go.
	b.Run(t, 40*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.teach li.class .capture').dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }))`),
		chromedp.Poll[chromedp.Void](`parseInt(document.querySelector('.teach li.class .count').textContent) >= 7`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.teach li.class .capture').dispatchEvent(new PointerEvent('pointerup', { bubbles: true }))`),
	)
	held := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.teach li.class .count').textContent`)
	time.Sleep(time.Second)
	if after := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.teach li.class .count').textContent`); after != held {
		t.Errorf("after the capture button was let go the count went from %s to %s", held, after)
	}
	b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".camera")))

	// A widget on another site, with head=, answers with the head's classes.
	mux := http.NewServeMux()
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>A docs page</title>
<script type="module" src="%sembed.js"></script>
<shufflenet-classifier id="taught" src="/coffee.png" head="/head.json" top="3"></shufflenet-classifier>`, site)
	})
	mux.HandleFunc("/head.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, exported)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/coffee.png", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, shared.Path(t, "images/coffee.png"))
	})
	docs := httptest.NewServer(mux)
	t.Cleanup(docs.Close)
	b.Run(t, 60*time.Second, chromedp.Navigate(docs.URL+"/page.html"))
	widgetTop(t, b, "taught")
	if label := browsertest.Eval[string](t, b, 5*time.Second, `document.getElementById('taught').shadowRoot.querySelector('li .label').textContent`); label != "coffee" {
		t.Errorf("the widget with head= says %q, want coffee", label)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %s", strings.Join(errs, "\n"))
	}
}
