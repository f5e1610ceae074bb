//go:build js && wasm

package main

import "strings"

// defaultTexts are the words a classifier shows, by key. A page replaces
// any of them with a widget's text-KEY attribute (text-choose="choisir
// un fichier", say), to translate the widget. {model}, {ms} and {kernels}
// stand for what they name; a replacement may use them or leave them out.
var defaultTexts = map[string]string{
	"drop":         "Drop an image here or ",
	"drop-paste":   "Drop an image here, paste one, or ",
	"choose":       "choose a file",
	"webcam-start": "Start webcam",
	"webcam-stop":  "Stop webcam",
	"webcam-live":  "Live from the webcam",
	"heatmap":      "Show where the network looked",
	"model":        "Model",
	"no-picture":   "No picture yet.",
	"no-source":    "No picture: set src or put an <img> inside.",
	"loading":      "Loading {model}…",
	"ready":        "Ready: {model} runs in your browser{kernels}. Choose a picture.",
	"with-simd":    " with SIMD",
	"result":       "{ms} ms with {model}, in your browser.",
	"most-likely":  "Most likely",
	"then":         "Then",
	"top":          "The most likely classes",
}

// say is the text for key, the page's if it gave one, with its
// placeholders filled from pairs of name and value.
func (c *classifier) say(key string, pairs ...string) string {
	s, ok := c.opts.texts[key]
	if !ok {
		s = defaultTexts[key]
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}
