package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// firstPrediction runs before the page's own scripts: the moment the
// picker is enabled (the model is loaded in the workers), it drops the
// picture (given in base64) on the page, as a visitor would, and notes
// that moment and the first result's, in ms since navigation start.
const firstPrediction = `
window.firstPrediction = {};
const picture = Uint8Array.fromBase64(%q);
new MutationObserver(() => {
	const p = window.firstPrediction, now = performance.now();
	const file = document.querySelector('.classifier .file');
	if (p.ready === undefined && file && !file.disabled) {
		p.ready = now;
		const dt = new DataTransfer();
		dt.items.add(new File([picture], 'chelsea.png', { type: 'image/png' }));
		document.querySelector('.classifier .drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
	}
	if (p.result === undefined && document.querySelector('.top li')) p.result = now;
}).observe(document, { subtree: true, childList: true, attributes: true });`

// BenchmarkFirstPrediction measures how soon a visitor gets a first
// prediction: a fresh browser with an empty profile (no cache) opens the
// page on 127.0.0.1, and the moment the picker is enabled the cat photo is
// dropped on the page; the time is from navigation start to the first
// result shown (the page classifies nothing before it is given a picture,
// so this counts the picture as given the moment the page can take it).
// It also reports when the picker was enabled and the bytes the page
// transferred. Run with -benchtime 1x and a few -count.
func BenchmarkFirstPrediction(b *testing.B) {
	url := startSite(b)
	script := fmt.Sprintf(firstPrediction, base64.StdEncoding.EncodeToString(shared.Read(b, "images/chelsea.png")))
	var ready, result, transferred float64
	for b.Loop() {
		br := browsertest.New(b)
		br.Run(b, 10*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
			return err
		}))
		br.Run(b, 60*time.Second, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(".top li")))
		times := browsertest.Eval[map[string]float64](b, br, 5*time.Second, `window.firstPrediction`)
		ready, result = times["ready"], times["result"]
		transferred = browsertest.Eval[float64](b, br, 5*time.Second,
			`performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, performance.getEntriesByType('navigation')[0].transferSize)`)
		b.Logf("ready %.0f ms, first prediction %.0f ms, %.0f bytes transferred", ready, result, transferred)
	}
	b.ReportMetric(ready, "ms-ready")
	b.ReportMetric(result, "ms-first-prediction")
	b.ReportMetric(transferred, "bytes-transferred")
	b.ReportMetric(0, "ns/op")
}
