package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/shufflenet-go/shufflenet/internal/browsertest"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

// errorText waits for an error message, the page's own (the engine did
// not start) or its classifier's, and returns it.
func errorText(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	const shown = `.error:not([hidden])`
	b.Run(t, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(shown)))
	return browsertest.Eval[string](t, b, 5*time.Second, "document.querySelector('"+shown+"').textContent")
}

// The webcam's failures are explained in the page, and the page keeps
// working: a picture can still be classified.
func TestCameraErrors(t *testing.T) {
	url := startSite(t)
	for _, c := range []struct {
		name  string
		flags []chromedp.ExecAllocatorOption
		deny  bool
		want  string
	}{
		// Headless Chromium with no (fake) camera device.
		{"no camera", nil, false, "No camera was found"},
		// A camera, but the user said no.
		{"denied", []chromedp.ExecAllocatorOption{chromedp.Flag("use-fake-device-for-media-stream", true)}, true, "Camera access was denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := browsertest.New(t, c.flags...)
			if c.deny {
				err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx2 context.Context, _ *chromedp.Target) error {
					_, err := chromedp.CallBrowser(ctx2, browser.SetPermission, browser.SetPermissionParams{
						Permission: &browser.PermissionDescriptor{Name: "camera"}, Setting: browser.PermissionSettingDenied,
					})
					return err
				}))
				if err != nil {
					t.Fatal(err)
				}
			}
			openDemo(t, b, url)
			b.Run(t, 10*time.Second, chromedp.Click(chromedp.CSS(".camera")))
			if msg := errorText(t, b); !strings.Contains(msg, c.want) {
				t.Errorf("error %q, want %q", msg, c.want)
			}
			pressed := browsertest.Eval[string](t, b, 5*time.Second, `document.querySelector('.camera').getAttribute('aria-pressed')`)
			if pressed != "false" {
				t.Errorf("camera button left pressed (%q) after the failure", pressed)
			}
			if top := upload(t, b, shared.Path(t, "images/chelsea.png")); top.Index < 281 || top.Index > 285 {
				t.Errorf("after the camera error: top-1 %+v", top)
			}
		})
	}
}

// Weights that arrive damaged are caught by their checksum, and the page
// says so instead of running a wrong model.
func TestDamagedWeights(t *testing.T) {
	site := startSite(t)
	// A proxy that flips one byte of every weights file on the way.
	target, _ := http.NewRequest(http.MethodGet, site, nil)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.URL.Scheme+"://"+target.URL.Host+r.URL.RequestURI(), nil)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if strings.HasPrefix(r.URL.Path, "/weights/") && len(body) > 1000 {
			body = bytes.Clone(body)
			body[len(body)/2] ^= 0xff
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	defer proxy.Close()
	b := browsertest.New(t)
	b.Run(t, 30*time.Second, chromedp.Navigate(proxy.URL+"/"))
	if msg := errorText(t, b); !strings.Contains(msg, "checksum") {
		t.Errorf("error %q does not mention the checksum", msg)
	}
}

// A browser without WebAssembly gets a message, not a blank page. (The
// page is made to believe so: WebAssembly is removed before its scripts run.)
func TestNoWebAssembly(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t)
	b.Run(t, 10*time.Second, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: "delete globalThis.WebAssembly"})
		return err
	}))
	b.Run(t, 30*time.Second, chromedp.Navigate(url))
	if msg := errorText(t, b); !strings.Contains(msg, "cannot run WebAssembly") {
		t.Errorf("error %q", msg)
	}
}

// On a phone-sized screen the page fits its width and shows the results.
func TestPhoneSizedScreen(t *testing.T) {
	url := startSite(t)
	b := browsertest.New(t)
	b.Run(t, 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	openDemo(t, b, url)
	top := upload(t, b, shared.Path(t, "images/chelsea.png"))
	if top.Index < 281 || top.Index > 285 {
		t.Errorf("top-1 %+v", top)
	}
	fits := browsertest.Eval[bool](t, b, 5*time.Second, `document.documentElement.scrollWidth <= window.innerWidth`)
	if !fits {
		t.Error("the page is wider than a 390-pixel screen")
	}
	b.Screenshot(t, "demo-phone.png")
}
