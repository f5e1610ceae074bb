// Package wasmenc encodes small WebAssembly modules from Go: what the
// engine's SIMD128 kernels need and little more. A module imports one
// memory (the Go program's own, so the kernels work on Go's buffers in
// place) and exports functions over i32, f32 and v128 values, written with
// the structured control flow, core and SIMD128 instructions of Func.
//
// The kernels' bytes are made by Go code rather than by an outside
// assembler, so the module always matches the engine that calls it and
// nothing binary is committed.
package wasmenc

import (
	"bytes"
	"fmt"
)

// ValType is a WebAssembly value type.
type ValType byte

const (
	I32  ValType = 0x7f
	F32  ValType = 0x7d
	V128 ValType = 0x7b
)

func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case F32:
		return "f32"
	case V128:
		return "v128"
	}
	return fmt.Sprintf("valtype(%#x)", byte(t))
}

// Module is a module under construction.
type Module struct {
	memModule, memName string
	funcs              []*Func
	custom             []string // names of empty custom sections, in order
}

// NewModule starts a module whose functions work on the memory it imports
// as module.name.
func NewModule(memModule, memName string) *Module {
	return &Module{memModule: memModule, memName: memName}
}

// Func adds a function with the given signature, exported as name (or not
// exported when name is ""), and returns it for its body to be written.
func (m *Module) Func(name string, params, results []ValType) *Func {
	f := &Func{name: name, index: len(m.funcs), params: params, results: results}
	m.funcs = append(m.funcs, f)
	return f
}

// Mark adds an empty custom section called name: a label the host can
// read (WebAssembly.Module.customSections) without running anything.
func (m *Module) Mark(name string) { m.custom = append(m.custom, name) }

// Exports lists the names of the exported functions, in order.
func (m *Module) Exports() []string {
	var names []string
	for _, f := range m.funcs {
		if f.name != "" {
			names = append(names, f.name)
		}
	}
	return names
}

// Encode returns the module's binary form. It fails if a function body is
// unfinished (an open block) or left the wrong values on the stack.
func (m *Module) Encode() ([]byte, error) {
	var types [][]byte // distinct signatures, encoded
	typeOf := make([]int, len(m.funcs))
	for i, f := range m.funcs {
		if err := f.finished(); err != nil {
			return nil, fmt.Errorf("function %d (%q): %w", i, f.name, err)
		}
		sig := append([]byte{0x60}, vecTypes(f.params)...)
		sig = append(sig, vecTypes(f.results)...)
		typeOf[i] = len(types)
		for j, t := range types {
			if bytes.Equal(t, sig) {
				typeOf[i] = j
				break
			}
		}
		if typeOf[i] == len(types) {
			types = append(types, sig)
		}
	}

	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00} // \0asm, version 1
	out = section(out, 1, vec(len(types), func(b []byte) []byte {
		for _, t := range types {
			b = append(b, t...)
		}
		return b
	}))
	out = section(out, 2, vec(1, func(b []byte) []byte { // the memory, no minimum, no maximum
		b = name(b, m.memModule)
		b = name(b, m.memName)
		return append(b, 0x02, 0x00, 0x00)
	}))
	out = section(out, 3, vec(len(m.funcs), func(b []byte) []byte {
		for i := range m.funcs {
			b = appendU32(b, uint32(typeOf[i]))
		}
		return b
	}))
	exports := m.Exports()
	out = section(out, 7, vec(len(exports), func(b []byte) []byte {
		for _, f := range m.funcs {
			if f.name != "" {
				b = name(b, f.name)
				b = append(b, 0x00) // a function
				b = appendU32(b, uint32(f.index))
			}
		}
		return b
	}))
	out = section(out, 10, vec(len(m.funcs), func(b []byte) []byte {
		for _, f := range m.funcs {
			body := f.encodeLocals()
			body = append(body, f.code...)
			body = append(body, opEnd)
			b = appendU32(b, uint32(len(body)))
			b = append(b, body...)
		}
		return b
	}))
	for _, c := range m.custom {
		out = section(out, 0, name(nil, c))
	}
	return out, nil
}

// section appends a section: its id, its size, its contents.
func section(out []byte, id byte, contents []byte) []byte {
	out = append(out, id)
	out = appendU32(out, uint32(len(contents)))
	return append(out, contents...)
}

// vec encodes a vector of n items written by items.
func vec(n int, items func([]byte) []byte) []byte {
	return items(appendU32(nil, uint32(n)))
}

func vecTypes(ts []ValType) []byte {
	b := appendU32(nil, uint32(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

func name(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

// appendU32 appends v in unsigned LEB128.
func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendS32 appends v in signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
