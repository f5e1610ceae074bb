package simd128

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// The module is what abi says it is: it imports only Go's memory, as
// abi.MemoryModule.MemoryName, and exports exactly abi.Exports, in order,
// each a function of abi's parameter types that returns nothing. The
// writers take their parameters from abi, so this checks that they kept
// to it; the engine's side is checked against abi by the engine's
// TestSIMD128ImportsMatchABI.
func TestModuleMatchesABI(t *testing.T) {
	for _, fused := range []bool{false, true} {
		t.Run(fmt.Sprintf("fused=%v", fused), func(t *testing.T) { moduleMatchesABI(t, fused) })
	}
}

func moduleMatchesABI(t *testing.T, fused bool) {
	code, err := Module(fused)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeModule(code)
	if err != nil {
		t.Fatal(err)
	}
	wantImports := []wasmImport{{abi.MemoryModule, abi.MemoryName, kindMemory}}
	if !slices.Equal(m.imports, wantImports) {
		t.Errorf("imports %v, want only the memory, %v", m.imports, wantImports)
	}
	exports := abi.Exports
	if fused {
		exports = append(slices.Clip(exports), abi.FusedExports...)
	}
	var names, wantNames []string
	for _, e := range m.exports {
		names = append(names, e.name)
	}
	for _, e := range exports {
		wantNames = append(wantNames, e.Name)
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("exports %q, want abi's %q", names, wantNames)
	}
	for i, e := range exports {
		got, err := m.exportedFunc(i)
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		want := funcType{}
		for _, p := range e.Params {
			want.params = append(want.params, byte(p.Type))
		}
		if !slices.Equal(got.params, want.params) || len(got.results) != 0 {
			t.Errorf("%s is %v, want %v (abi: %v)", e.Name, got, want, e.Params)
		}
	}
}

// What the test reads of a module's binary form (the WebAssembly core
// specification, "Binary Format"): its types, its imports, the type of
// each function it defines, and its exports.
type wasmModule struct {
	types     []funcType
	imports   []wasmImport
	kindFuncs int      // imported functions, which come first in the function index space
	funcs     []uint32 // the type of each defined function
	exports   []wasmExport
}

type funcType struct{ params, results []byte }

func (t funcType) String() string {
	names := func(ts []byte) string {
		s := ""
		for i, v := range ts {
			if i > 0 {
				s += " "
			}
			s += abi.ValType(v).String()
		}
		return "(" + s + ")"
	}
	return "func" + names(t.params) + " -> " + names(t.results)
}

type wasmImport struct {
	module, name string
	kind         byte
}

type wasmExport struct {
	name  string
	kind  byte
	index uint32
}

// The kinds of imports and exports.
const (
	kindFunc   = 0
	kindTable  = 1
	kindMemory = 2
	kindGlobal = 3
)

// exportedFunc is the type of export i, which must be a defined function.
func (m *wasmModule) exportedFunc(i int) (funcType, error) {
	e := m.exports[i]
	if e.kind != kindFunc {
		return funcType{}, fmt.Errorf("export of kind %d, not a function", e.kind)
	}
	f := int(e.index) - m.kindFuncs
	if f < 0 || f >= len(m.funcs) || int(m.funcs[f]) >= len(m.types) {
		return funcType{}, fmt.Errorf("function %d is not defined", e.index)
	}
	return m.types[m.funcs[f]], nil
}

// decodeModule reads the type (1), import (2), function (3) and export
// (7) sections of code and skips the others.
func decodeModule(code []byte) (*wasmModule, error) {
	r := &wasmReader{b: code}
	if magic := r.bytes(8); string(magic) != "\x00asm\x01\x00\x00\x00" {
		return nil, fmt.Errorf("not a version 1 module: %x", magic)
	}
	m := &wasmModule{}
	for r.err == nil && len(r.b) > 0 {
		id := r.byte()
		s := &wasmReader{b: r.bytes(int(r.u32()))}
		switch id {
		case 1:
			for range s.count() {
				if form := s.byte(); form != 0x60 {
					return nil, fmt.Errorf("type form %#x, not a function", form)
				}
				m.types = append(m.types, funcType{params: s.bytes(int(s.u32())), results: s.bytes(int(s.u32()))})
			}
		case 2:
			for range s.count() {
				imp := wasmImport{module: s.name(), name: s.name(), kind: s.byte()}
				switch imp.kind {
				case kindFunc:
					s.u32() // its type
					m.kindFuncs++
				case kindTable:
					s.byte() // its element type
					s.limits()
				case kindMemory:
					s.limits()
				case kindGlobal:
					s.bytes(2) // its type and mutability
				default:
					return nil, fmt.Errorf("import of kind %d", imp.kind)
				}
				m.imports = append(m.imports, imp)
			}
		case 3:
			for range s.count() {
				m.funcs = append(m.funcs, s.u32())
			}
		case 7:
			for range s.count() {
				m.exports = append(m.exports, wasmExport{name: s.name(), kind: s.byte(), index: s.u32()})
			}
		}
		if s.err == nil && len(s.b) != 0 && slices.Contains([]byte{1, 2, 3, 7}, id) {
			s.err = fmt.Errorf("%d bytes left over", len(s.b))
		}
		if s.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, s.err)
		}
	}
	return m, r.err
}

// wasmReader reads a module's bytes; past their end it reads zeros and
// records the error.
type wasmReader struct {
	b   []byte
	err error
}

var errShort = errors.New("unexpected end")

func (r *wasmReader) bytes(n int) []byte {
	if n > len(r.b) {
		r.err, r.b = errShort, nil
		return make([]byte, min(n, 8))
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *wasmReader) byte() byte { return r.bytes(1)[0] }

// u32 reads an unsigned LEB128 number.
func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("LEB128 number too long")
	return 0
}

// count reads the length of a vector, none if it cannot be: each item
// takes a byte at least.
func (r *wasmReader) count() uint32 {
	n := r.u32()
	if int64(n) > int64(len(r.b)) {
		r.err, r.b = errShort, nil
		return 0
	}
	return n
}

func (r *wasmReader) name() string { return string(r.bytes(int(r.u32()))) }

// limits reads a table's or a memory's limits: flags, a minimum and, with
// flag 1, a maximum.
func (r *wasmReader) limits() {
	if flags := r.byte(); flags&1 != 0 {
		r.u32()
	}
	r.u32()
}
