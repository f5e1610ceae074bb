package simd128

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// The module is valid WebAssembly, as Node.js (V8, like Chromium) compiles
// it. The kernels' results are tested in the engine, under Node.js (see
// engine/kernels_simd128_wasm_test.go).
func TestModuleCompiles(t *testing.T) {
	code, err := Module()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to compile the module")
	}
	cmd := exec.Command(node, "-e", `
		const bytes = require('fs').readFileSync(0);
		new WebAssembly.Module(bytes); // throws, with the reason, if invalid
		console.log(WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name).join(' '));`)
	cmd.Stdin = bytes.NewReader(code)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the module does not compile: %v\n%s", err, out)
	}
	var names []string
	for _, e := range abi.Exports {
		names = append(names, e.Name)
	}
	if got, want := strings.TrimSpace(string(out)), strings.Join(names, " "); got != want {
		t.Errorf("exports %q, want %q", got, want)
	}
	t.Logf("%d bytes", len(code))
}

// BenchmarkModule times writing the module (make wasm does, once).
func BenchmarkModule(b *testing.B) {
	for b.Loop() {
		if _, err := Module(); err != nil {
			b.Fatal(err)
		}
	}
}
