package weights_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/weights"
)

const sha = "da5df689f1d8f278fd1446e73f3a63aa7809206fadc6678bfd7580aad412abde"

var base = weights.HeadBase{Model: "megvii-g3-0.5x", SHA256: sha, Features: 3}

// tiny is a small head file with names and numbers that are hard to
// write: JSON's special characters, non-ASCII, float32's extremes.
func tiny() weights.HeadFile {
	return weights.HeadFile{Base: base, Head: &head.Head{
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

func encode(t testing.TB, f weights.HeadFile) []byte {
	t.Helper()
	data, err := weights.EncodeHead(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A file reads back exactly what was written, bit for bit, and is text a
// person can read: one class's weights a line.
func TestHeadRoundTrip(t *testing.T) {
	data := encode(t, tiny())
	t.Logf("%s", data)
	got, err := weights.DecodeHead(data)
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
	if got, err := weights.DecodeHead(encode(t, upper)); err != nil || got.Base.SHA256 != sha {
		t.Errorf("upper-case sha256 read as %q, %v", got.Base.SHA256, err)
	}
}

// A file written before the format moved into this package (by
// encoding/json's string encoder) reads, and writes back byte for byte.
func TestHeadFileUnchanged(t *testing.T) {
	data, err := os.ReadFile("testdata/head.json")
	if err != nil {
		t.Fatal(err)
	}
	want := tiny()
	want.Head.Classes[0] = "cat </script>\u2028\u2029\u00a0\ufeff"
	got, err := weights.DecodeHead(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v %+v, want %+v %+v", got.Base, got.Head, want.Base, want.Head)
	}
	if again := encode(t, want); !bytes.Equal(again, data) {
		t.Errorf("wrote\n%s\nwant\n%s", again, data)
	}
}

// appendJSONString writes what encoding/json does with SetEscapeHTML(false),
// for every character, invalid UTF-8 too, and the text reads back.
func TestAppendJSONString(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r <= 0x10ffff; r++ {
		all.WriteRune(r) // a surrogate is written as U+FFFD
	}
	for _, s := range []string{
		"", "cat", `"R&B" <3 </script>`, `back\slash\`, "\"", "\x00\x01\b\t\n\v\f\r\x1b\x1f\x7f",
		"\u0085\u00a0\u2028\u2029\ufeff", "ünïcødé 🐈", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80z",
		all.String(),
	} {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		got := weights.AppendJSONString([]byte("x"), s)
		if !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("%.60q written as %.200s, want %.200s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got[1:], &back); err != nil || utf8.ValidString(s) && back != s {
			t.Errorf("%.60q read back as %.60q, %v", s, back, err)
		}
	}
}

// largest is the largest head the format allows, every number as long
// as a float32 gets.
func largest() weights.HeadFile {
	h := &head.Head{Features: head.MaxFeatures, Weight: make([]float32, head.MaxClasses*head.MaxFeatures), Bias: make([]float32, head.MaxClasses)}
	for i := range head.MaxClasses {
		h.Classes = append(h.Classes, fmt.Sprintf("%099d", i))
	}
	for i := range h.Weight {
		h.Weight[i] = -1.2345678e-12
	}
	return weights.HeadFile{Base: weights.HeadBase{Model: strings.Repeat("m", 100), SHA256: sha, Features: head.MaxFeatures}, Head: h}
}

// The largest head fits in MaxSize and reads back.
func TestLargestHead(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := encode(t, largest())
	t.Logf("%d bytes, the limit %d", len(data), weights.MaxHeadSize)
	if _, err := weights.DecodeHead(data); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLargestHead(b *testing.B) {
	f := largest()
	data := encode(b, f)
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := weights.EncodeHead(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := weights.DecodeHead(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEncodeHeadRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(f *weights.HeadFile)
		want   string
	}{
		{"no head", func(f *weights.HeadFile) { f.Head = nil }, "no head"},
		{"newline in a name", func(f *weights.HeadFile) { f.Head.Classes[1] = "a\nb" }, `name "a\nb" has a control character (U+000A)`},
		{"NUL in a name", func(f *weights.HeadFile) { f.Head.Classes[1] = "a\x00" }, "control character (U+0000)"},
		{"C1 control in a name", func(f *weights.HeadFile) { f.Head.Classes[1] = "a\u0085" }, "control character (U+0085)"},
		{"name not UTF-8", func(f *weights.HeadFile) { f.Head.Classes[1] = "a\xff" }, "is not valid UTF-8"},
		{"control character in the model", func(f *weights.HeadFile) { f.Base.Model = "m\t" }, "base model: name \"m\\t\" has a control character"},
		{"bad head", func(f *weights.HeadFile) { f.Head.Bias[0] = float32(math.NaN()) }, `bias of class "cat" is NaN`},
		{"no model", func(f *weights.HeadFile) { f.Base.Model = "" }, "base model: empty name"},
		{"short sha256", func(f *weights.HeadFile) { f.Base.SHA256 = "1a2b" }, `base sha256 "1a2b" is not 64 hex digits`},
		{"other features", func(f *weights.HeadFile) { f.Base.Features = 480 }, "base has 480 features, the head 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := tiny()
			c.change(&f)
			_, err := weights.EncodeHead(f)
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
	f, err := weights.DecodeHead(data)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %.300v, want one saying %q", err, want)
	}
	if err != nil && !errors.Is(err, weights.ErrHeadFormat) {
		t.Errorf("error %v does not wrap ErrFormat", err)
	}
	if f.Head != nil {
		t.Error("a head with the error")
	}
}

func TestDecodeHeadRejects(t *testing.T) {
	if _, err := weights.DecodeHead([]byte(small)); err != nil {
		t.Fatalf("the small file: %v", err)
	}
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"other format", `"shufflenet-head"`, `"shufflenet-v1"`, `"format": "shufflenet-v1", want "shufflenet-head"`},
		{"format not a string", `"shufflenet-head"`, `1`, `"format": byte 11 of its JSON: want '"', found '1'`},
		{"newer version", `"version": 1`, `"version": 2`, `"version": 2, this build reads 1`},
		{"version as text", `"version": 1`, `"version": "1"`, `"version": byte 41 of its JSON: want a number, found '"'`},
		{"fractional version", `"version": 1`, `"version": 1.0`, `"version": 1.0 is not an integer of 32 bits`},
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
		{"class not a string", `["a", "b"]`, `["a", 2]`, `"classes": value 1: byte 180 of its JSON: want '"', found '2'`},
		{"no features", `"features": 2, "weight"`, `"features": 0, "weight"`, `"features": 0, want 1 to 8192`},
		{"negative features", `"features": 2, "weight"`, `"features": -2, "weight"`, `"features": -2, want 1 to 8192`},
		{"huge features", `"features": 2, "weight"`, `"features": 99999999999999999999, "weight"`, "99999999999999999999 is not an integer of 32 bits"},
		{"short weight", `[1, 2, 3, 4]`, `[1, 2, 3]`, "3 weights, want 4 (2 classes x 2 features)"},
		{"long weight", `[1, 2, 3, 4]`, `[1, 2, 3, 4, 5]`, `"weight": more than 4 values`},
		{"short bias", `[0.5, -0.5]`, `[0.5]`, "1 biases for 2 classes"},
		{"NaN as a string", `[1, 2, 3, 4]`, `[1, "NaN", 3, 4]`, `"weight": value 1: byte 215 of its JSON: want a number, found '"'`},
		{"Infinity", `[1, 2, 3, 4]`, `[1, 2, Infinity, 4]`, `"weight": value 2: byte 218 of its JSON: want a number, found 'I'`},
		{"leading zero", `[1, 2, 3, 4]`, `[1, 2, 03, 4]`, `"weight": byte 219 of its JSON: want ',' or ']', found '3'`},
		{"bare point", `[1, 2, 3, 4]`, `[1, 2, 3., 4]`, `"weight": value 2: byte 220 of its JSON: want a digit, found ','`},
		{"bad escape", `"a"`, `"\x41"`, `"classes": value 0: byte 178 of its JSON: invalid escape \x in a string`},
		{"raw newline in a name", `"a"`, "\"a\nb\"", `"classes": value 0: byte 177 of its JSON: control character '\n' in a string`},
		{"over float32", `[1, 2, 3, 4]`, `[1, 2, 3.5e38, 4]`, `"weight": value 2: 3.5e38 is not a finite number`},
		{"null weight", `[1, 2, 3, 4]`, `null`, `"weight": byte 211 of its JSON: want '[', found 'n'`},
		{"nested weight", `[1, 2, 3, 4]`, `[[1, 2], [3, 4]]`, `"weight": value 0: byte 212 of its JSON: want a number, found '['`},
		{"weight an object", `[1, 2, 3, 4]`, `{"0": 1}`, `"weight": byte 211 of its JSON: want '[', found '{'`},
		{"true bias", `[0.5, -0.5]`, `[true, false]`, `"bias": value 0: byte 234 of its JSON: want a number, found 't'`},
		{"trailing comma", `[0.5, -0.5]`, `[0.5, -0.5,]`, `"bias": value 2: byte 244 of its JSON: want a number, found ']'`},
		{"trailing comma in an object", `[0.5, -0.5]}`, `[0.5, -0.5],}`, `byte 245 of its JSON: want '"', found '}'`},
		{"more after the object", `-0.5]}`, `-0.5]} {}`, "byte 246 of its JSON: the JSON value is followed by a tail ('{')"},
		{"an array", small, `[` + small + `]`, "byte 0 of its JSON: want '{', found '['"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(small, c.old) {
				t.Fatalf("the small file has no %s", c.old)
			}
			decodeFails(t, []byte(strings.Replace(small, c.old, c.new, 1)), c.want)
		})
	}
	decodeFails(t, nil, "byte 0 of its JSON: the JSON ends where '{' should be")
	decodeFails(t, []byte("  \n"), "byte 3 of its JSON: the JSON ends where '{' should be")
	decodeFails(t, []byte(small[:strings.Index(small, `"b"`)+2]), `"classes": value 1: byte 182 of its JSON: a string does not end`)
	decodeFails(t, []byte(strings.Replace(small, `"a"`, "\"\xff\"", 1)), "not UTF-8 text")
}

// No input makes Decode panic or hold much more than the file: every
// list is cut off at the most a head can have.
func TestDecodeHeadHostile(t *testing.T) {
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
		{"NaN strings", repeat(head1+`"classes": ["a", "b"], "features": 2, "weight": [`, `"NaN"`, ",", 4, "]}"), `"weight": value 0: byte 210 of its JSON: want a number, found '"'`},
		{"deep nesting", repeat(head1+`"weight": `, "[", "", 1_000_000, ""), `"weight": value 0: byte 172 of its JSON: want a number, found '['`},
		{"deep nesting first", repeat("", "[", "", 1_000_000, ""), "byte 0 of its JSON: want '{', found '['"},
		{"deep objects", repeat(`{"base": `, `{"model": `, "", 100_000, ""), `"base": "model": byte 19 of its JSON: want '"', found '{'`},
		{"a 10 MB class name", repeat(head1+`"classes": ["`, "x", "", 10_000_000, `", "b"]}`), `"classes": value 0: name of 10000000 bytes, the limit is 100`},
		{"10 MB of white space", repeat(head1, " ", "", 10_000_000, ""), "byte 10000161 of its JSON: the JSON ends where '\"' should be"},
		{"over MaxSize", repeat(small, " ", "", weights.MaxHeadSize, ""), "bytes, the limit is 16777216"},
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
		if _, err := weights.DecodeHead(data[:n]); err == nil {
			t.Errorf("the file cut to %d bytes of %d read", n, len(data))
		}
	}
}

func TestHeadMatches(t *testing.T) {
	f := tiny()
	f.Base.Features = 480
	other := strings.Repeat("1a2b3c", 10) + "1a2b"
	for _, c := range []struct {
		name string
		b    weights.HeadBase
		want string // "" for a match
	}{
		{"the same", f.Base, ""},
		{"renamed", weights.HeadBase{Model: "mine", SHA256: sha, Features: 480}, ""},
		{"sha256 in upper case", weights.HeadBase{Model: "megvii-g3-0.5x", SHA256: strings.ToUpper(sha), Features: 480}, ""},
		{"by name where the sha256 is unknown", weights.HeadBase{Model: "megvii-g3-0.5x", Features: 480}, ""},
		{"other weights", weights.HeadBase{Model: "megvii-g3-0.5x", SHA256: other, Features: 480},
			"head file for megvii-g3-0.5x (sha256 da5df689f1d8…) with 480 features, but this model is megvii-g3-0.5x (sha256 1a2b3c1a2b3c…) with 480 features"},
		{"other model", weights.HeadBase{Model: "megvii-g8-0.5x", SHA256: other, Features: 768},
			"head file for megvii-g3-0.5x (sha256 da5df689f1d8…) with 480 features, but this model is megvii-g8-0.5x (sha256 1a2b3c1a2b3c…) with 768 features"},
		{"other name, sha256 unknown", weights.HeadBase{Model: "seed-g3", Features: 480},
			"but this model is seed-g3 (sha256 unknown) with 480 features"},
		{"other features, same sha256", weights.HeadBase{Model: "megvii-g3-0.5x", SHA256: sha, Features: 960}, "with 960 features"},
		{"nothing known", weights.HeadBase{}, "but this model is unnamed (sha256 unknown) with 0 features"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := f.Matches(c.b)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("no match: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one saying %q", err, c.want)
			case err != nil && !errors.Is(err, weights.ErrHeadMismatch):
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
	f, err := weights.DecodeHead(encode(t, weights.HeadFile{Base: base, Head: h}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Head, h) {
		t.Errorf("read back %+v, wrote %+v", f.Head, h)
	}
}

// Decode accepts nothing that does not save and read back unchanged.
func FuzzDecodeHead(f *testing.F) {
	f.Add(encode(f, tiny()))
	f.Add([]byte(small))
	f.Add([]byte(strings.Replace(small, `[1, 2, 3, 4]`, `[1e-45, -0, 3.4028235e38, 0.1E+1]`, 1)))
	f.Add([]byte(strings.Replace(small, `"a", "b"`, `"\u00e9\ud83d\ude00", "b\/"`, 1)))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := weights.DecodeHead(data)
		if err != nil {
			if !errors.Is(err, weights.ErrHeadFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		again, err := weights.EncodeHead(got)
		if err != nil {
			t.Fatalf("decoded a file that does not encode: %v", err)
		}
		back, err := weights.DecodeHead(again)
		if err != nil {
			t.Fatalf("encoded a file that does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, got) {
			t.Fatalf("read %+v, then %+v", got.Head, back.Head)
		}
	})
}
