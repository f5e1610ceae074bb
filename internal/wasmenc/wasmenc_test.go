package wasmenc

import (
	"bytes"
	"strings"
	"testing"
)

func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		u, s []byte
	}{
		{0, []byte{0x00}, []byte{0x00}},
		{1, []byte{0x01}, []byte{0x01}},
		{63, []byte{0x3f}, []byte{0x3f}},
		{64, []byte{0x40}, []byte{0xc0, 0x00}},
		{127, []byte{0x7f}, []byte{0xff, 0x00}},
		{128, []byte{0x80, 0x01}, []byte{0x80, 0x01}},
		{624485, []byte{0xe5, 0x8e, 0x26}, []byte{0xe5, 0x8e, 0x26}},
		{-1, nil, []byte{0x7f}},
		{-64, nil, []byte{0x40}},
		{-65, nil, []byte{0xbf, 0x7f}},
		{-123456, nil, []byte{0xc0, 0xbb, 0x78}},
	} {
		if c.u != nil {
			if got := appendU32(nil, uint32(c.v)); !bytes.Equal(got, c.u) {
				t.Errorf("unsigned %d: % x, want % x", c.v, got, c.u)
			}
		}
		if got := appendS32(nil, int32(c.v)); !bytes.Equal(got, c.s) {
			t.Errorf("signed %d: % x, want % x", c.v, got, c.s)
		}
	}
}

// A module of one function, byte for byte as the specification lays it out.
func TestEncodeModule(t *testing.T) {
	m := NewModule("go", "mem")
	f := m.Func("scale", []ValType{I32, I32}, nil) // scale(p, n): p[0..4] *= n
	p, n := f.Param(0), f.Param(1)
	f.V128Store(f.Get(p), 16, f.F32x4Mul(f.V128Load(f.Get(p), 16), f.F32x4Splat(f.F32Const(2))))
	f.Loop(func(again Label) {
		f.BrIf(again, f.I32Eqz(f.Get(n)))
	})
	got, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00, // type: (i32, i32) -> ()
		0x02, 0x0b, 0x01, 0x02, 'g', 'o', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x00, // import go.mem, memory {min 0}
		0x03, 0x02, 0x01, 0x00, // one function of type 0
		0x07, 0x09, 0x01, 0x05, 's', 'c', 'a', 'l', 'e', 0x00, 0x00, // export "scale" func 0
		0x0a, 0x22, 0x01, 0x20, 0x00, // code: one body of 32 bytes, no locals
		0x20, 0x00, // local.get 0
		0x20, 0x00, 0xfd, 0x00, 0x00, 0x10, // local.get 0; v128.load align=0 offset=16
		0x43, 0x00, 0x00, 0x00, 0x40, 0xfd, 0x13, // f32.const 2; f32x4.splat
		0xfd, 0xe6, 0x01, // f32x4.mul
		0xfd, 0x0b, 0x00, 0x10, // v128.store offset=16
		0x03, 0x40, 0x20, 0x01, 0x45, 0x0d, 0x00, 0x0b, // loop; local.get 1; i32.eqz; br_if 0; end
		0x0b,
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoded\n% x\nwant\n% x", got, want)
	}
}

// Misused instructions fail when the kernel is written, not when a browser
// rejects the module.
func TestMisuseFailsEarly(t *testing.T) {
	for _, c := range []struct {
		name, panic string
		write       func(f *Func)
	}{
		{"wrong type", "is i32, want v128", func(f *Func) {
			f.Drop(f.F32x4Add(f.I32Const(1), f.I32Const(2)))
		}},
		{"out of turn", "out of turn", func(f *Func) {
			addr := f.I32Const(0)
			v := f.V128Const([4]uint32{})
			f.Drop(f.F32x4Max(f.V128Load(addr, 0), v)) // addr is under v
		}},
		{"branch to a closed block", "not open", func(f *Func) {
			var l Label
			f.Block(func(end Label) { l = end })
			f.Br(l)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), c.panic) {
					t.Errorf("panic %v, want one saying %q", r, c.panic)
				}
			}()
			c.write(NewModule("go", "mem").Func("f", nil, nil))
		})
	}
}

func TestEncodeRejectsUnfinishedFunctions(t *testing.T) {
	m := NewModule("go", "mem")
	f := m.Func("f", nil, nil)
	f.I32Const(1)
	if _, err := m.Encode(); err == nil {
		t.Error("a value left on the stack encoded")
	}
}

// f32x4.relaxed_madd is the prefix, then 0x105 in LEB128; a mark is an
// empty custom section (id 0) at the end, holding only its name. The
// bytes are those of engine.js's relaxed SIMD probe, which browsers
// validate.
func TestRelaxedMaddAndMark(t *testing.T) {
	m := NewModule("go", "mem")
	f := m.Func("madd", []ValType{V128, V128, V128}, []ValType{V128})
	f.F32x4RelaxedMadd(f.Get(f.Param(0)), f.Get(f.Param(1)), f.Get(f.Param(2)))
	m.Mark("x")
	got, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte{0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b} // size, no locals, the gets, the madd, end
	if !bytes.Contains(got, body) {
		t.Errorf("no relaxed_madd body % x in % x", body, got)
	}
	if mark := []byte{0x00, 0x02, 0x01, 'x'}; !bytes.HasSuffix(got, mark) {
		t.Errorf("module ends % x, want the mark % x", got[len(got)-4:], mark)
	}
}
