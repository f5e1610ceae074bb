//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// The few things the interface needs that dom/v2 has no binding for, each
// in one named helper: shadow roots, custom events, filling a canvas with
// pixels, fetching a picture, the files of a drop or a paste.

// element makes an element with attributes given as name, value pairs.
// Callers view it as its dom/v2 type (&dom.HTMLCanvasElement{BasicHTMLElement:
// element(doc, "canvas")}), as they know what they made. Document's
// CreateElement would find that type by comparing the element's
// constructor with those of the 70 kinds of HTML element dom/v2 knows,
// which links all 70 types and their methods into the program: measured,
// 560 KB more code and a wasm of 5.1 MB instead of 3.7 (17 % more bytes
// gzipped), which every page and widget would download and compile.
func element(doc dom.Document, tag string, attrs ...string) *dom.BasicHTMLElement {
	v := doc.Underlying().Call("createElement", tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		v.Call("setAttribute", attrs[i], attrs[i+1])
	}
	return &dom.BasicHTMLElement{BasicElement: &dom.BasicElement{BasicNode: &dom.BasicNode{Value: v}}}
}

// appendAll appends children to parent, in order.
func appendAll(parent dom.Node, children ...dom.Node) {
	for _, c := range children {
		parent.AppendChild(c)
	}
}

// text is a text node.
func text(doc dom.Document, s string) *dom.Text {
	return &dom.Text{BasicNode: &dom.BasicNode{Value: doc.Underlying().Call("createTextNode", s)}}
}

// mountPoint is where a classifier renders: an element (the page's) or a
// shadow root (a widget's), and the element that fires its events (the
// shadow root's host). Both are only nodes to it: it appends and clears.
func mountPoint(root js.Value) (parent, host *dom.BasicNode) {
	if sr := js.Global().Get("ShadowRoot"); sr.Truthy() && root.InstanceOf(sr) {
		return &dom.BasicNode{Value: root}, &dom.BasicNode{Value: root.Get("host")}
	}
	return &dom.BasicNode{Value: root}, &dom.BasicNode{Value: root}
}

// dispatch fires a custom event that bubbles out of shadow roots.
func dispatch(target dom.Node, name string, detail any) {
	event := js.Global().Get("CustomEvent").New(name, map[string]any{"bubbles": true, "composed": true, "detail": detail})
	target.Underlying().Call("dispatchEvent", event)
}

// drawRGBA paints size x size RGBA pixels (a heat map, or a picture kept
// from the camera) on canvas.
func drawRGBA(canvas *dom.HTMLCanvasElement, rgba js.Value, size int) {
	drawPixels(canvas, rgba, size, size)
}

// drawPixels paints width x height RGBA pixels on canvas, sized to fit them.
func drawPixels(canvas *dom.HTMLCanvasElement, rgba js.Value, width, height int) {
	canvas.SetWidth(width)
	canvas.SetHeight(height)
	ctx := canvas.GetContext2d()
	img := ctx.CreateImageData(width, height)
	img.Get("data").Call("set", rgba)
	ctx.PutImageData(img, 0, 0)
}

// firstFile is the first file of a drop's or a paste's DataTransfer, or null.
func firstFile(transfer js.Value) js.Value {
	if !transfer.Truthy() || transfer.Get("files").Length() == 0 {
		return js.Null()
	}
	return transfer.Get("files").Index(0)
}

// fetchPicture downloads a picture for classifying, telling a refusal to
// share it with this page (no CORS header) from other failures.
func fetchPicture(url string) (js.Value, error) { return fetchBlob(url, "image") }

// fetchFile downloads a file (what, for messages: "head file") of at
// most maxBytes as bytes.
func fetchFile(url, what string, maxBytes int) (js.Value, error) {
	blob, err := fetchBlob(url, what)
	if err != nil {
		return js.Value{}, err
	}
	if n := blob.Get("size").Int(); n > maxBytes {
		return js.Value{}, fmt.Errorf("the %s %s has %d bytes, more than the %d it may have", what, url, n, maxBytes)
	}
	buffer, err := await(blob.Call("arrayBuffer"))
	if err != nil {
		return js.Value{}, fmt.Errorf("the %s %s could not be read: %v", what, url, err)
	}
	return js.Global().Get("Uint8Array").New(buffer), nil
}

// fetchBlob downloads url as a Blob, telling a refusal to share it with
// this page (no CORS header) from other failures.
func fetchBlob(url, what string) (js.Value, error) {
	fetch := js.Global().Get("fetch")
	resp, err := await(fetch.Invoke(url, map[string]any{"mode": "cors", "credentials": "omit"}))
	if err != nil {
		// An opaque answer means the server is there but does not share.
		if _, err := await(fetch.Invoke(url, map[string]any{"mode": "no-cors", "credentials": "omit"})); err == nil {
			return js.Value{}, fmt.Errorf("the %s %s could not be read: its server does not allow other sites to use it (no CORS header)", what, url)
		}
		return js.Value{}, fmt.Errorf("the %s %s could not be fetched", what, url)
	}
	if !resp.Get("ok").Bool() {
		return js.Value{}, fmt.Errorf("the %s %s could not be fetched (HTTP %d)", what, url, resp.Get("status").Int())
	}
	blob, err := await(resp.Call("blob"))
	if err != nil {
		return js.Value{}, fmt.Errorf("the %s %s could not be fetched: %v", what, url, err)
	}
	return blob, nil
}
