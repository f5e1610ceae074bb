package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
)

// tinyModel is a small valid network with random parameters: a pytorchcv
// layout with 4/8/16/32 channels and 10 classes, a few kilobytes encoded.
func tinyModel(t testing.TB) (engine.Architecture, engine.Params) {
	a, err := engine.NewArchitecture(engine.Pytorchcv, 2, 4, [3]int{16, 32, 64})
	if err != nil {
		t.Fatal(err)
	}
	a.Classes = 10
	rng := rand.New(rand.NewPCG(1, 2))
	p := engine.Params{Units: make([]engine.UnitParams, len(a.Units()))}
	for s, shape := range a.Convs() {
		c := p.Conv(s)
		c.Weight, c.Bias = make([]float32, shape.WeightLen()), make([]float32, shape.Out)
		for j := range c.Weight {
			c.Weight[j] = float32(rng.NormFloat64())
		}
		for j := range c.Bias {
			c.Bias[j] = float32(rng.NormFloat64() * 0.1)
		}
	}
	return a, p
}

func encodeTiny(t testing.TB, dt DType) []byte {
	a, p := tinyModel(t)
	data, err := Encode(a, p, Meta{Labels: "test", SourceName: "tiny.pth", SourceSHA256: "00"}, slices.Repeat([]DType{dt}, len(LayerNames(a))))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRoundTrip(t *testing.T) {
	a, p := tinyModel(t)
	for _, c := range []struct {
		dt  DType
		tol float64 // relative to each output channel's largest weight
	}{{Float32, 0}, {Float16, 1.0 / 1024}, {Int8, 0.5 / 127}} {
		t.Run(string(c.dt), func(t *testing.T) {
			m, err := Decode(encodeTiny(t, c.dt))
			if err != nil {
				t.Fatal(err)
			}
			if m.Arch.Name() != a.Name() || m.Arch.Classes != 10 || m.Meta.SourceName != "tiny.pth" {
				t.Errorf("decoded %s with %d classes from %q", m.Arch.Name(), m.Arch.Classes, m.Meta.SourceName)
			}
			for s := range a.Convs() {
				i, got, want := s.Index, m.Params.Conv(s), p.Conv(s)
				if m.DTypes[i] != c.dt {
					t.Fatalf("layer %d stored as %s", i, m.DTypes[i])
				}
				if !slices.Equal(got.Bias, want.Bias) {
					t.Fatalf("layer %d: biases differ", i)
				}
				per := len(want.Weight) / len(want.Bias)
				for o := range want.Bias {
					row := want.Weight[o*per : (o+1)*per]
					peak := 0.0
					for _, v := range row {
						peak = max(peak, math.Abs(float64(v)))
					}
					for j, v := range row {
						if d := math.Abs(float64(got.Weight[o*per+j] - v)); d > c.tol*peak*1.0001 {
							t.Fatalf("layer %d weight %d: %g vs %g", i, o*per+j, got.Weight[o*per+j], v)
						}
					}
				}
			}
			if _, err := m.Network(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The tensors are named as the package documents them, whatever engine
// calls its convs: files written before must keep loading.
func TestTensorNames(t *testing.T) {
	a, _ := tinyModel(t)
	names := LayerNames(a)
	for _, c := range []struct {
		i    int
		want string
	}{{0, "stem"}, {1, "units.0.compress"}, {2, "units.0.spatial"}, {3, "units.0.expand"}, {46, "units.15.compress"}, {48, "units.15.expand"}, {49, "classifier"}} {
		if names[c.i] != c.want {
			t.Errorf("layer %d is %q, want %q", c.i, names[c.i], c.want)
		}
	}
	h, _ := jsonHeader(t, encodeTiny(t, Int8))
	delete(h, "__metadata__")
	if len(names) != 50 || len(h) != 3*len(names) {
		t.Errorf("%d layers in %d tensors, want 50 in 150", len(names), len(h))
	}
	for _, n := range names {
		for _, suffix := range []string{".weight", ".weight_scale", ".bias"} {
			if h[n+suffix] == nil {
				t.Errorf("no tensor %s", n+suffix)
			}
		}
	}
}

// jsonHeader returns a file's JSON header and its data section.
func jsonHeader(t testing.TB, file []byte) (map[string]any, []byte) {
	n := binary.LittleEndian.Uint64(file)
	var h map[string]any
	if err := json.Unmarshal(file[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h, file[8+n:]
}

// withHeader rebuilds a file from an edited header and a data section.
func withHeader(t testing.TB, h map[string]any, data []byte) []byte {
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(b)))
	return append(append(out, b...), data...)
}

func tensorEntry(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }

// Every kind of damage is an error that says what is wrong, never a panic
// or an allocation sized by the damage.
func TestDecodeRejects(t *testing.T) {
	good := encodeTiny(t, Int8)
	edit := func(f func(h map[string]any, data []byte) []byte) []byte {
		h, data := jsonHeader(t, good)
		return f(h, bytes.Clone(data))
	}
	offsets := func(h map[string]any, name string) []any { return tensorEntry(h, name)["data_offsets"].([]any) }
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "header"},
		{"header longer than the file", binary.LittleEndian.AppendUint64(nil, 5000), "header"},
		{"absurd header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "header"},
		{"truncated data", good[:len(good)-3], "run past"},
		{"not JSON", append(binary.LittleEndian.AppendUint64(nil, 4), "{{{{"...), "JSON"},
		{"wrong format", edit(func(h map[string]any, d []byte) []byte {
			h["__metadata__"].(map[string]any)["format"] = "gpt"
			return withHeader(t, h, d)
		}), "format"},
		{"absurd architecture", edit(func(h map[string]any, d []byte) []byte {
			h["__metadata__"].(map[string]any)["architecture"] = strings.Replace(h["__metadata__"].(map[string]any)["architecture"].(string), `"stage_channels":[16,32,64]`, `"stage_channels":[16,32,640000000]`, 1)
			return withHeader(t, h, d)
		}), "out of range"},
		{"resize_short 200000", edit(func(h map[string]any, d []byte) []byte {
			h["__metadata__"].(map[string]any)["architecture"] = strings.Replace(h["__metadata__"].(map[string]any)["architecture"].(string), `"resize_short":256`, `"resize_short":200000`, 1)
			return withHeader(t, h, d)
		}), "resize_short 200000"},
		{"resize_short negative", edit(func(h map[string]any, d []byte) []byte {
			h["__metadata__"].(map[string]any)["architecture"] = strings.Replace(h["__metadata__"].(map[string]any)["architecture"].(string), `"resize_short":256`, `"resize_short":-1`, 1)
			return withHeader(t, h, d)
		}), "resize_short -1"},
		{"overlapping offsets", edit(func(h map[string]any, d []byte) []byte {
			o := offsets(h, "stem.bias")
			o[0] = o[0].(float64) - 4
			return withHeader(t, h, d)
		}), "offset"},
		{"offsets past the end", edit(func(h map[string]any, d []byte) []byte {
			o := offsets(h, "classifier.bias")
			o[1] = o[1].(float64) + 1e12
			return withHeader(t, h, d)
		}), "do not hold a F32 tensor"},
		{"dtype mismatch", edit(func(h map[string]any, d []byte) []byte {
			tensorEntry(h, "units.3.spatial.weight")["dtype"] = "U8"
			return withHeader(t, h, d)
		}), "dtype"},
		{"shape mismatch", edit(func(h map[string]any, d []byte) []byte {
			s := tensorEntry(h, "units.3.expand.weight")["shape"].([]any)
			s[0], s[1] = s[1], s[0]
			return withHeader(t, h, d)
		}), "shape"},
		{"missing tensor", edit(func(h map[string]any, d []byte) []byte {
			h["stem.bias_renamed"] = tensorEntry(h, "stem.bias")
			delete(h, "stem.bias")
			return withHeader(t, h, d)
		}), `missing tensor "stem.bias"`},
		{"NaN scale", edit(func(h map[string]any, d []byte) []byte {
			o := offsets(h, "units.0.compress.weight_scale")
			binary.LittleEndian.PutUint32(d[int(o[0].(float64)):], math.Float32bits(float32(math.NaN())))
			return withHeader(t, h, d)
		}), "NaN"},
		{"negative scale", edit(func(h map[string]any, d []byte) []byte {
			o := offsets(h, "units.0.compress.weight_scale")
			binary.LittleEndian.PutUint32(d[int(o[0].(float64)):], math.Float32bits(-1))
			return withHeader(t, h, d)
		}), "out of range"},
		{"scale overflowing the weights", edit(func(h map[string]any, d []byte) []byte {
			o := offsets(h, "units.0.compress.weight_scale")
			binary.LittleEndian.PutUint32(d[int(o[0].(float64)):], math.Float32bits(math.MaxFloat32/100))
			return withHeader(t, h, d)
		}), "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.file)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want ErrFormat mentioning %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

// FuzzDecode: any bytes decode to a valid model or to an error.
func FuzzDecode(f *testing.F) {
	for _, dt := range []DType{Int8, Float16, Float32} {
		f.Add(encodeTiny(f, dt))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		if err := m.Params.Check(m.Arch); err != nil {
			t.Fatalf("decoded params do not fit: %v", err)
		}
	})
}
