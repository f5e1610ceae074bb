//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// serveInterface takes the runtime's shim (web/static/engine.js hands it
// over as globalThis.shufflenetShim) and adds mount(root, options) to it:
// render a classifier into root, an element or a shadow root, and answer
// {update(options), unmount()}. The demo page mounts one with every
// control; each widget of a page mounts one into its shadow root.
func serveInterface() {
	s := shim{js.Global().Get("shufflenetShim")}
	js.Global().Delete("shufflenetShim")
	if !s.Truthy() {
		return // started without a runtime (a test of the engine role's host)
	}
	doc := dom.GetWindow().Document()
	s.Set("mount", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 2 {
			return nil
		}
		c := mount(doc, s, args[0], parseOptions(args[1]))
		var update, unmount js.Func
		update = js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) > 0 {
				c.update(parseOptions(args[0]))
			}
			return nil
		})
		unmount = js.FuncOf(func(js.Value, []js.Value) any {
			c.unmount()
			update.Release()
			unmount.Release()
			return nil
		})
		return map[string]any{"update": update, "unmount": unmount}
	}))
}

// options say what a classifier shows and does: the page's are fixed in
// web/static/app.js, a widget's come from its attributes (embed.js).
type options struct {
	src   string            // a picture to classify at once: an absolute URL
	alt   string            // the picture's description, when the page gave one
	model string            // the model to use; "" is the server's default
	top   int               // how many classes to list, 1 to 10
	theme string            // "light" (the default), "dark", or "auto" (the reader's setting)
	texts map[string]string // replacements of defaultTexts, by key

	heatmap       bool // show where the network looked
	upload        bool // a file picker and a drop zone
	paste         bool // a picture pasted anywhere on the page is classified
	webcam        bool // a webcam button
	picker        bool // a model menu
	heatmapSwitch bool // a switch for the heat map

	// The /inside/ page's explorer (see inside.go) and its first view.
	inside    bool
	unit      string // the unit to look inside
	noShuffle bool   // start with the network without its channel shuffle
	table     string // the architecture the table shows ("seed-g8"); "" for the model in use

	teach bool   // the page's Teach mode (see teach.go)
	head  string // a head file to answer with (an absolute URL), a widget's head attribute
}

// parseOptions reads options from JavaScript: top is a number or a
// numeral (default 3, kept within 1 to 10).
func parseOptions(v js.Value) options {
	str := func(name string) string {
		if f := v.Get(name); f.Type() == js.TypeString {
			return f.String()
		}
		return ""
	}
	o := options{
		src: str("src"), alt: str("alt"), model: str("model"), top: 3,
		heatmap: v.Get("heatmap").Truthy(), upload: v.Get("upload").Truthy(), paste: v.Get("paste").Truthy(),
		webcam: v.Get("webcam").Truthy(), picker: v.Get("picker").Truthy(), heatmapSwitch: v.Get("heatmapSwitch").Truthy(),
		inside: v.Get("inside").Truthy(), unit: str("unit"), noShuffle: str("shuffle") == "off", table: str("table"),
		teach: v.Get("teach").Truthy(), head: str("head"),
	}
	switch theme := str("theme"); theme {
	case "dark", "auto":
		o.theme = theme
	default:
		o.theme = "light"
	}
	if texts := v.Get("texts"); texts.Type() == js.TypeObject {
		keys := js.Global().Get("Object").Call("keys", texts)
		o.texts = map[string]string{}
		for i := range keys.Length() {
			if t := texts.Get(keys.Index(i).String()); t.Type() == js.TypeString {
				o.texts[keys.Index(i).String()] = t.String()
			}
		}
	}
	switch top := v.Get("top"); top.Type() {
	case js.TypeNumber:
		o.top = top.Int()
	case js.TypeString:
		if n, err := strconv.Atoi(top.String()); err == nil {
			o.top = n
		}
	}
	o.top = min(10, max(1, o.top))
	return o
}
