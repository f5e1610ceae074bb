package simd128

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// Both builds are valid WebAssembly, as Node.js (V8, like Chromium)
// compiles them, and only the fused one carries abi.FusedSection, the
// mark by which the host tells them apart. The kernels' results are tested
// in the engine, under Node.js (see engine/kernels_simd128_wasm_test.go).
func TestModuleCompiles(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to compile the module")
	}
	for _, fused := range []bool{false, true} {
		t.Run(fmt.Sprintf("fused=%v", fused), func(t *testing.T) {
			exports := abi.Exports
			if fused {
				exports = append(slices.Clip(exports), abi.FusedExports...)
			}
			var names []string
			for _, e := range exports {
				names = append(names, e.Name)
			}
			code, err := Module(fused)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, append(relaxedSIMDFlag(node), "-e", `
				const m = new WebAssembly.Module(require('fs').readFileSync(0)); // throws, with the reason, if invalid
				console.log(WebAssembly.Module.customSections(m, process.argv[1]).length > 0);
				console.log(WebAssembly.Module.exports(m).map((e) => e.name).join(' '));`, abi.FusedSection)...)
			cmd.Stdin = bytes.NewReader(code)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the module does not compile: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 2 {
				t.Fatalf("node printed %q", out)
			}
			if marked := lines[0] == "true"; marked != fused {
				t.Errorf("marked fused: %v", marked)
			}
			if got, want := lines[1], strings.Join(names, " "); got != want {
				t.Errorf("exports %q, want %q", got, want)
			}
			t.Logf("%d bytes", len(code))
		})
	}
}

// relaxedSIMDFlag is the flag Node.js 20 (V8 11.3) needs for relaxed
// SIMD, if this node takes it; later ones have it on.
func relaxedSIMDFlag(node string) []string {
	flag := "--experimental-wasm-relaxed-simd"
	if exec.Command(node, flag, "-e", "").Run() != nil {
		return nil
	}
	return []string{flag}
}

// BenchmarkModule times writing the module (make wasm does, once).
func BenchmarkModule(b *testing.B) {
	for b.Loop() {
		if _, err := Module(true); err != nil {
			b.Fatal(err)
		}
	}
}
