// Package web holds the browser front end: the demo page, its small
// JavaScript shim and worker, styles, the embeddable widget, and (built by
// `make wasm` into static/gen, not committed) the engine compiled to
// WebAssembly with Go's wasm_exec.js. The server embeds all of it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static is the front end's files, rooted at the site root.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // "static" is embedded above
	}
	return sub
}
