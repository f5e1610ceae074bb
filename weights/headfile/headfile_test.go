package headfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/weights/headfile"
)

const sha = "da5df689f1d8f278fd1446e73f3a63aa7809206fadc6678bfd7580aad412abde"

var base = headfile.Base{Model: "megvii-g3-0.5x", SHA256: sha, Features: 3}

// tiny is a small head file with names and numbers that are hard to
// write: JSON's special characters, non-ASCII, float32's extremes.
func tiny() headfile.File {
	return headfile.File{Base: base, Head: &head.Head{
		Classes:  []string{"cat", `"R&B" <3`, "ünïcødé 🐈", `back\slash`},
		Features: 3,
		Weight: []float32{
			0.1, -0.2, 3e-8,
			math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
			float32(math.Copysign(0, -1)), 1, -1.2345678e-12,
			16777217, 1e10, 0.3333333,
		},
		Bias: []float32{0, 0.5, -7, 1e-3},
	}}
}

func encode(t testing.TB, f headfile.File) []byte {
	t.Helper()
	data, err := headfile.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A file reads back exactly what was written, bit for bit, and is text a
// person can read: one class's weights a line.
func TestRoundTrip(t *testing.T) {
	data := encode(t, tiny())
	t.Logf("%s", data)
	got, err := headfile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tiny()) {
		t.Errorf("read back %+v %+v, wrote %+v %+v", got.Base, got.Head, tiny().Base, tiny().Head)
	}
	if math.Signbit(float64(got.Head.Weight[6])) != true {
		t.Error("-0 read back as +0")
	}
	for _, want := range []string{
		`"format": "shufflenet-head"`, `"version": 1`, `"model": "megvii-g3-0.5x"`, `"sha256": "` + sha + `"`,
		`"classes": ["cat", "\"R&B\" <3", "ünïcødé 🐈", "back\\slash"]`,
		"\n    0.1, -0.2, 3e-08,\n", "\n    3.4028235e+38, -3.4028235e+38, 1e-45,\n",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the file has no %s", want)
		}
	}
	// An upper-case sha256 is read, and kept, in lower case.
	upper := tiny()
	upper.Base.SHA256 = strings.ToUpper(sha)
	if got, err := headfile.Decode(encode(t, upper)); err != nil || got.Base.SHA256 != sha {
		t.Errorf("upper-case sha256 read as %q, %v", got.Base.SHA256, err)
	}
}

// largest is the largest head the format allows, every number as long
// as a float32 gets.
func largest() headfile.File {
	h := &head.Head{Features: head.MaxFeatures, Weight: make([]float32, head.MaxClasses*head.MaxFeatures), Bias: make([]float32, head.MaxClasses)}
	for i := range head.MaxClasses {
		h.Classes = append(h.Classes, fmt.Sprintf("%099d", i))
	}
	for i := range h.Weight {
		h.Weight[i] = -1.2345678e-12
	}
	return headfile.File{Base: headfile.Base{Model: strings.Repeat("m", 100), SHA256: sha, Features: head.MaxFeatures}, Head: h}
}

// The largest head fits in MaxSize and reads back.
func TestLargestHead(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := encode(t, largest())
	t.Logf("%d bytes, the limit %d", len(data), headfile.MaxSize)
	if _, err := headfile.Decode(data); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLargestHead(b *testing.B) {
	f := largest()
	data := encode(b, f)
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := headfile.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := headfile.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEncodeRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(f *headfile.File)
		want   string
	}{
		{"no head", func(f *headfile.File) { f.Head = nil }, "no head"},
		{"bad head", func(f *headfile.File) { f.Head.Bias[0] = float32(math.NaN()) }, `bias of class "cat" is NaN`},
		{"no model", func(f *headfile.File) { f.Base.Model = "" }, "base model: empty name"},
		{"short sha256", func(f *headfile.File) { f.Base.SHA256 = "1a2b" }, `base sha256 "1a2b" is not 64 hex digits`},
		{"other features", func(f *headfile.File) { f.Base.Features = 480 }, "base has 480 features, the head 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := tiny()
			c.change(&f)
			_, err := headfile.Encode(f)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// small is a valid head file small enough to edit in a test.
const small = `{"format": "shufflenet-head", "version": 1,
 "base": {"model": "m", "sha256": "` + sha + `", "features": 2},
 "classes": ["a", "b"], "features": 2, "weight": [1, 2, 3, 4], "bias": [0.5, -0.5]}`

// decodeFails decodes data and checks that it fails saying want, and
// wrapping ErrFormat.
func decodeFails(t *testing.T, data []byte, want string) {
	t.Helper()
	f, err := headfile.Decode(data)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %.300v, want one saying %q", err, want)
	}
	if err != nil && !errors.Is(err, headfile.ErrFormat) {
		t.Errorf("error %v does not wrap ErrFormat", err)
	}
	if f.Head != nil {
		t.Error("a head with the error")
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := headfile.Decode([]byte(small)); err != nil {
		t.Fatalf("the small file: %v", err)
	}
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"other format", `"shufflenet-head"`, `"shufflenet-v1"`, `"format": "shufflenet-v1", want "shufflenet-head"`},
		{"format not a string", `"shufflenet-head"`, `1`, `"format": byte 11: a number, want a string`},
		{"newer version", `"version": 1`, `"version": 2`, `"version": 2, this build reads 1`},
		{"version as text", `"version": 1`, `"version": "1"`, `"version": byte 41: the string "1", want a number`},
		{"fractional version", `"version": 1`, `"version": 1.0`, `"version": 1.0, want a whole number`},
		{"no format", `"format": "shufflenet-head", `, ``, `no "format"`},
		{"no version", `"version": 1,`, ``, `no "version"`},
		{"no base", `"base": {"model": "m", "sha256": "` + sha + `", "features": 2},`, ``, `no "base"`},
		{"no classes", `"classes": ["a", "b"], `, ``, `no "classes"`},
		{"no features", `"features": 2, "weight"`, `"weight"`, `no "features"`},
		{"no weight", `"weight": [1, 2, 3, 4], `, ``, `no "weight"`},
		{"no bias", `, "bias": [0.5, -0.5]`, ``, `no "bias"`},
		{"unknown key", `"bias"`, `"labels": [], "bias"`, `"labels": unknown key`},
		{"unknown base key", `"model": "m"`, `"name": "x", "model": "m"`, `"base": "name": unknown key`},
		{"key twice", `"version": 1,`, `"version": 1, "version": 1,`, `"version": key given twice`},
		{"base key twice", `"model": "m"`, `"model": "m", "model": "m"`, `"model": key given twice`},
		{"empty base model", `"model": "m"`, `"model": ""`, "base model: empty name"},
		{"short sha256", sha, "1a2b3c", `base sha256 "1a2b3c" is not 64 hex digits`},
		{"sha256 not hex", sha, strings.Repeat("g", 64), "is not 64 hex digits"},
		{"base of other features", `"features": 2}`, `"features": 3}`, "base has 3 features, the head 2"},
		{"one class", `["a", "b"]`, `["a"]`, "1 classes, want 2 to 100"},
		{"duplicate class", `["a", "b"]`, `["a", "a"]`, `classes 0 and 1 are both named "a"`},
		{"empty class name", `["a", "b"]`, `["a", ""]`, `"classes": value 1: empty name`},
		{"control character", `["a", "b"]`, `["a", "b\u0007"]`, "control character (U+0007)"},
		{"class not a string", `["a", "b"]`, `["a", 2]`, `"classes": value 1: byte 180: a number, want a string`},
		{"no features", `"features": 2, "weight"`, `"features": 0, "weight"`, `"features": 0, want 1 to 8192`},
		{"negative features", `"features": 2, "weight"`, `"features": -2, "weight"`, `"features": -2, want 1 to 8192`},
		{"huge features", `"features": 2, "weight"`, `"features": 99999999999999999999, "weight"`, "want a whole number"},
		{"short weight", `[1, 2, 3, 4]`, `[1, 2, 3]`, "3 weights, want 4 (2 classes x 2 features)"},
		{"long weight", `[1, 2, 3, 4]`, `[1, 2, 3, 4, 5]`, `"weight": more than 4 values`},
		{"short bias", `[0.5, -0.5]`, `[0.5]`, "1 biases for 2 classes"},
		{"NaN as a string", `[1, 2, 3, 4]`, `[1, "NaN", 3, 4]`, `"weight": value 1: byte 215: the string "NaN", want a number`},
		{"Infinity", `[1, 2, 3, 4]`, `[1, 2, Infinity, 4]`, `"weight": value 2: byte 218: 'I', want a number`},
		{"leading zero", `[1, 2, 3, 4]`, `[1, 2, 03, 4]`, `"weight": byte 219: a number, want ',' or ']'`},
		{"bare point", `[1, 2, 3, 4]`, `[1, 2, 3., 4]`, `"weight": value 2: byte 220: ',', want a digit`},
		{"bad escape", `"a"`, `"\x41"`, "invalid character 'x' in string escape code"},
		{"raw newline in a name", `"a"`, "\"a\nb\"", "invalid character '\\n' in string literal"},
		{"over float32", `[1, 2, 3, 4]`, `[1, 2, 3.5e38, 4]`, `"weight": value 2: 3.5e38 is out of float32's range`},
		{"null weight", `[1, 2, 3, 4]`, `null`, `"weight": byte 211: null, want '['`},
		{"nested weight", `[1, 2, 3, 4]`, `[[1, 2], [3, 4]]`, `"weight": value 0: byte 212: an array, want a number`},
		{"weight an object", `[1, 2, 3, 4]`, `{"0": 1}`, `"weight": byte 211: an object, want '['`},
		{"true bias", `[0.5, -0.5]`, `[true, false]`, `"bias": value 0: byte 234: true, want a number`},
		{"trailing comma", `[0.5, -0.5]`, `[0.5, -0.5,]`, `"bias": value 2: byte 244: ']', want a number`},
		{"trailing comma in an object", `[0.5, -0.5]}`, `[0.5, -0.5],}`, `'}', want a string`},
		{"more after the object", `-0.5]}`, `-0.5]} {}`, "more after the object"},
		{"an array", small, `[` + small + `]`, "an array, want '{'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(small, c.old) {
				t.Fatalf("the small file has no %s", c.old)
			}
			decodeFails(t, []byte(strings.Replace(small, c.old, c.new, 1)), c.want)
		})
	}
	decodeFails(t, nil, "unexpected end of the file")
	decodeFails(t, []byte("  \n"), "unexpected end of the file")
	decodeFails(t, []byte(small[:strings.Index(small, `"b"`)+2]), "unexpected end of the file in a string")
	decodeFails(t, []byte(strings.Replace(small, `"a"`, "\"\xff\"", 1)), "not UTF-8 text")
}

// No input makes Decode panic or hold much more than the file: every
// list is cut off at the most a head can have.
func TestDecodeHostile(t *testing.T) {
	repeat := func(prefix, item, sep string, n int, suffix string) []byte {
		return []byte(prefix + strings.Repeat(item+sep, n-1) + item + suffix)
	}
	head1 := `{"format": "shufflenet-head", "version": 1, "base": {"model": "m", "sha256": "` + sha + `", "features": 2}, `
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"a million classes", repeat(head1+`"classes": [`, `"c"`, ",", 1_000_000, `]}`), `"classes": more than 100 values`},
		{"weights past classes x features", repeat(head1+`"classes": ["a", "b"], "features": 2, "weight": [`, "0", ",", 5_000_000, "]}"), `"weight": more than 4 values`},
		{"weights before their size", repeat(head1+`"weight": [`, "0", ",", 5_000_000, "]}"), `"weight": more than 819200 values`},
		{"NaN strings", repeat(head1+`"classes": ["a", "b"], "features": 2, "weight": [`, `"NaN"`, ",", 4, "]}"), `the string "NaN", want a number`},
		{"deep nesting", repeat(head1+`"weight": `, "[", "", 1_000_000, ""), `"weight": value 0: byte 172: an array, want a number`},
		{"deep nesting first", repeat("", "[", "", 1_000_000, ""), "an array, want '{'"},
		{"deep objects", repeat(`{"base": `, `{"model": `, "", 100_000, ""), `"base": "model": byte 19: an object, want a string`},
		{"a 10 MB class name", repeat(head1+`"classes": ["`, "x", "", 10_000_000, `", "b"]}`), `"classes": value 0: byte 173: a string of more than 602 bytes`},
		{"10 MB of white space", repeat(head1, " ", "", 10_000_000, ""), "unexpected end of the file"},
		{"over MaxSize", repeat(small, " ", "", headfile.MaxSize, ""), "bytes, the limit is 16777216"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			decodeFails(t, c.data, c.want)
			runtime.ReadMemStats(&after)
			if held := after.TotalAlloc - before.TotalAlloc; held > 4*uint64(len(c.data))+1<<20 {
				t.Errorf("%d bytes allocated for a file of %d", held, len(c.data))
			}
		})
	}
	// Every truncation of a valid file is an error, not a panic.
	data := encode(t, tiny())
	for n := range len(data) - 1 { // the last byte is the newline
		if _, err := headfile.Decode(data[:n]); err == nil {
			t.Errorf("the file cut to %d bytes of %d read", n, len(data))
		}
	}
}

func TestMatches(t *testing.T) {
	f := tiny()
	f.Base.Features = 480
	other := strings.Repeat("1a2b3c", 10) + "1a2b"
	for _, c := range []struct {
		name string
		b    headfile.Base
		want string // "" for a match
	}{
		{"the same", f.Base, ""},
		{"renamed", headfile.Base{Model: "mine", SHA256: sha, Features: 480}, ""},
		{"sha256 in upper case", headfile.Base{Model: "megvii-g3-0.5x", SHA256: strings.ToUpper(sha), Features: 480}, ""},
		{"by name where the sha256 is unknown", headfile.Base{Model: "megvii-g3-0.5x", Features: 480}, ""},
		{"other weights", headfile.Base{Model: "megvii-g3-0.5x", SHA256: other, Features: 480},
			"head file for megvii-g3-0.5x (sha256 da5df689f1d8…) with 480 features, but this model is megvii-g3-0.5x (sha256 1a2b3c1a2b3c…) with 480 features"},
		{"other model", headfile.Base{Model: "megvii-g8-0.5x", SHA256: other, Features: 768},
			"head file for megvii-g3-0.5x (sha256 da5df689f1d8…) with 480 features, but this model is megvii-g8-0.5x (sha256 1a2b3c1a2b3c…) with 768 features"},
		{"other name, sha256 unknown", headfile.Base{Model: "seed-g3", Features: 480},
			"but this model is seed-g3 (sha256 unknown) with 480 features"},
		{"other features, same sha256", headfile.Base{Model: "megvii-g3-0.5x", SHA256: sha, Features: 960}, "with 960 features"},
		{"nothing known", headfile.Base{}, "but this model is unnamed (sha256 unknown) with 0 features"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := f.Matches(c.b)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("no match: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one saying %q", err, c.want)
			case err != nil && !errors.Is(err, headfile.ErrMismatch):
				t.Errorf("error %v does not wrap ErrMismatch", err)
			}
		})
	}
}

// A trained head saves and loads.
func TestTrainedHead(t *testing.T) {
	samples := []head.Sample{{Features: []float32{1, 0, 0}, Class: 0}, {Features: []float32{0, 1, 0}, Class: 1}, {Features: []float32{0, 0, 1}, Class: 2}}
	h, err := head.Train([]string{"a", "b", "c"}, samples, head.Options{Epochs: 10})
	if err != nil {
		t.Fatal(err)
	}
	f, err := headfile.Decode(encode(t, headfile.File{Base: base, Head: h}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Head, h) {
		t.Errorf("read back %+v, wrote %+v", f.Head, h)
	}
}

// Decode accepts nothing that does not save and read back unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(encode(f, tiny()))
	f.Add([]byte(small))
	f.Add([]byte(strings.Replace(small, `[1, 2, 3, 4]`, `[1e-45, -0, 3.4028235e38, 0.1E+1]`, 1)))
	f.Add([]byte(strings.Replace(small, `"a", "b"`, `"\u00e9\ud83d\ude00", "b\/"`, 1)))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := headfile.Decode(data)
		if err != nil {
			if !errors.Is(err, headfile.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		again, err := headfile.Encode(got)
		if err != nil {
			t.Fatalf("decoded a file that does not encode: %v", err)
		}
		back, err := headfile.Decode(again)
		if err != nil {
			t.Fatalf("encoded a file that does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, got) {
			t.Fatalf("read %+v, then %+v", got.Head, back.Head)
		}
	})
}
