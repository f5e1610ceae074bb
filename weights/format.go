// Package weights is the project's weights file: one self-describing
// safetensors file per model, holding the network in the engine's runtime
// layout (batch norms and channel shuffles folded), with conv and
// classifier weights in int8, float16 or float32 per layer.
//
// The file is standard safetensors, so Python reads it too
// (safetensors.safe_open). For a conv named N (stem, units.I.compress,
// units.I.spatial, units.I.expand, classifier) it holds:
//
//	N.weight        I8, F16 or F32, shape [out, in/groups, k, k] ([out, in] for the classifier)
//	N.weight_scale  F32 [out], only with I8: weight = int8 value * scale of its output channel
//	N.bias          F32 [out]
//
// and __metadata__ holds everything needed to rebuild and feed the model:
// the engine.Architecture as JSON (family, groups, widths, layout flags,
// input convention), the label set, and the source checkpoint's name and
// sha256. This package does not read PyTorch checkpoints, so the browser
// build stays free of a pickle reader.
package weights

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/nlpodyssey/safetensors"
	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/x448/float16"
)

// Format and FormatVersion identify the file in __metadata__.
const (
	Format        = "shufflenet-v1"
	FormatVersion = 1
)

// maxHeader bounds the JSON header: a real one is about 20 KB.
const maxHeader = 1 << 20

// DType is how a layer's weights are stored.
type DType string

const (
	Int8    DType = "int8" // symmetric, one float32 scale per output channel
	Float16 DType = "f16"
	Float32 DType = "f32"
)

// Meta describes where a weights file came from.
type Meta struct {
	Labels       string `json:"labels"`        // label set, "imagenet-1k"
	SourceName   string `json:"source_name"`   // checkpoint file name
	SourceSHA256 string `json:"source_sha256"` // checkpoint sha256, hex
}

// Model is a decoded weights file.
type Model struct {
	Arch   engine.Architecture
	Params engine.Params
	Meta   Meta
	// DTypes is each conv's storage type, in network order (stem, units'
	// compress/spatial/expand, classifier).
	DTypes []DType
	// ArchitectureJSON is Arch as the file's header holds it, for handing
	// on as text (ParseArchitecture reads it back).
	ArchitectureJSON string
}

// ErrFormat is wrapped by every error about a file that is not a valid weights file.
var ErrFormat = errors.New("not a valid ShuffleNet weights file")

// Encode writes a model's parameters, storing conv i's weights as dtypes[i]
// (one per conv, in network order; see Model.DTypes).
func Encode(arch engine.Architecture, p engine.Params, meta Meta, dtypes []DType) ([]byte, error) {
	if err := p.Check(arch); err != nil {
		return nil, err
	}
	if n := len(LayerNames(arch)); len(dtypes) != n {
		return nil, fmt.Errorf("encode: %d dtypes for %d layers", len(dtypes), n)
	}
	archJSON, err := json.Marshal(arch)
	if err != nil {
		return nil, err
	}
	metadata := map[string]string{
		"format":         Format,
		"format_version": strconv.Itoa(FormatVersion),
		"architecture":   string(archJSON),
		"layout":         "batch norms folded into convs; shuffles folded: compress convs write shuffled, spatial convs permuted to match",
		"labels":         meta.Labels,
		"source_name":    meta.SourceName,
		"source_sha256":  meta.SourceSHA256,
	}
	tensors := map[string]safetensors.TensorView{}
	add := func(name string, dt safetensors.DType, shape []int, data []byte) error {
		dims := make([]uint64, len(shape))
		for i, d := range shape {
			dims[i] = uint64(d)
		}
		v, err := safetensors.NewTensorView(dt, dims, data)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		tensors[name] = v
		return nil
	}
	for s, conv := range arch.Convs() {
		c, name, shape := p.Conv(s), tensorPrefix(s), weightShape(conv)
		var err error
		switch dtypes[s.Index] {
		case Int8:
			q, scales := quantizeInt8(c.Weight, conv.Out)
			err = errors.Join(add(name+".weight", safetensors.I8, shape, int8Bytes(q)),
				add(name+".weight_scale", safetensors.F32, []int{conv.Out}, float32Bytes(scales)))
		case Float16:
			var half []byte
			if half, err = float16Bytes(c.Weight); err == nil {
				err = add(name+".weight", safetensors.F16, shape, half)
			} else {
				err = fmt.Errorf("encode %s: %w", name, err)
			}
		case Float32:
			err = add(name+".weight", safetensors.F32, shape, float32Bytes(c.Weight))
		default:
			err = fmt.Errorf("encode %s: unknown dtype %q", name, dtypes[s.Index])
		}
		if err != nil {
			return nil, err
		}
		if err := add(name+".bias", safetensors.F32, []int{conv.Out}, float32Bytes(c.Bias)); err != nil {
			return nil, err
		}
	}
	return safetensors.Serialize(tensors, metadata)
}

// Decode reads a weights file, validating every tensor (dtype, shape,
// byte range, finite values and scales) against the architecture its
// metadata describes before anything is built from it.
func Decode(data []byte) (*Model, error) {
	st, err := readHeader(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	md := st.metadata
	if md["format"] != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, md["format"], Format)
	}
	if v := md["format_version"]; v != strconv.Itoa(FormatVersion) {
		return nil, fmt.Errorf("%w: format version %q, this build reads %d", ErrFormat, v, FormatVersion)
	}
	m := &Model{Meta: Meta{Labels: md["labels"], SourceName: md["source_name"], SourceSHA256: md["source_sha256"]}}
	m.ArchitectureJSON = md["architecture"]
	if m.Arch, err = decodeArchitecture(md["architecture"]); err != nil {
		return nil, fmt.Errorf("%w: architecture: %v", ErrFormat, err)
	}
	if err := m.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("%w: architecture: %v", ErrFormat, err)
	}
	m.Params.Units = make([]engine.UnitParams, len(m.Arch.Units()))
	used := 0
	for s, conv := range m.Arch.Convs() {
		name := tensorPrefix(s)
		w, dt, n, err := readWeight(st, name, conv)
		if err != nil {
			return nil, err
		}
		b, err := readF32(st, name+".bias", []int{conv.Out})
		if err != nil {
			return nil, err
		}
		*m.Params.Conv(s) = engine.Conv{Weight: w, Bias: b}
		m.DTypes = append(m.DTypes, dt)
		used += n + 1
	}
	if len(st.tensors) != used {
		return nil, fmt.Errorf("%w: %d tensors, the architecture needs %d", ErrFormat, len(st.tensors), used)
	}
	// Every tensor's shape and values were checked as it was read (and
	// engine.New checks the params again), so there is no Params.Check
	// here: it would walk every weight a second time on the page's load.
	return m, nil
}

// Tensor returns the tensor called name, if the file has it.
func (h header) Tensor(name string) (safetensors.TensorView, bool) {
	t, ok := h.tensors[name]
	if !ok {
		return safetensors.TensorView{}, false
	}
	v, err := safetensors.NewTensorView(t.dtype, t.shape, t.data)
	return v, err == nil // readHeader has checked every tensor's size
}

// readWeight reads the weights of the conv whose tensors start with prefix,
// in whichever dtype they are stored, and returns them as float32, with the
// number of tensors used.
func readWeight(st header, prefix string, conv engine.ConvShape) ([]float32, DType, int, error) {
	name, shape := prefix+".weight", weightShape(conv)
	v, ok := st.Tensor(name)
	if !ok {
		return nil, "", 0, fmt.Errorf("%w: missing tensor %q", ErrFormat, name)
	}
	if err := checkShape(name, v, shape); err != nil {
		return nil, "", 0, err
	}
	switch v.DType() {
	case safetensors.F32:
		w, err := readF32(st, name, shape)
		return w, Float32, 1, err
	case safetensors.F16:
		w := make([]float32, len(v.Data())/2)
		for i := range w {
			w[i] = float16.Frombits(binary.LittleEndian.Uint16(v.Data()[2*i:])).Float32()
		}
		return w, Float16, 1, finite(name, w)
	case safetensors.I8:
		scales, err := readF32(st, prefix+".weight_scale", []int{conv.Out})
		if err != nil {
			return nil, "", 0, err
		}
		for o, sc := range scales {
			// The weights are q*scale with q in [-128, 127]: a scale over
			// MaxFloat32/128 would make some of them infinite.
			if sc < 0 || sc > math.MaxFloat32/128 {
				return nil, "", 0, fmt.Errorf("%w: %s.weight_scale[%d] = %g is out of range [0, MaxFloat32/128]", ErrFormat, prefix, o, sc)
			}
		}
		return dequantizeInt8(v.Data(), scales), Int8, 2, nil
	}
	return nil, "", 0, fmt.Errorf("%w: %s has dtype %v, want I8, F16 or F32", ErrFormat, name, v.DType())
}

// readF32 reads a float32 tensor of the given shape with finite values.
func readF32(st header, name string, shape []int) ([]float32, error) {
	v, ok := st.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("%w: missing tensor %q", ErrFormat, name)
	}
	if v.DType() != safetensors.F32 {
		return nil, fmt.Errorf("%w: %s has dtype %v, want F32", ErrFormat, name, v.DType())
	}
	if err := checkShape(name, v, shape); err != nil {
		return nil, err
	}
	out := make([]float32, len(v.Data())/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(v.Data()[4*i:]))
	}
	return out, finite(name, out)
}

func checkShape(name string, v safetensors.TensorView, want []int) error {
	got := make([]int, len(v.Shape()))
	for i, d := range v.Shape() {
		got[i] = int(d)
		if d > math.MaxInt32 {
			got[i] = -1
		}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%w: %s has shape %v, the architecture needs %v", ErrFormat, name, v.Shape(), want)
	}
	return nil
}

func finite(name string, v []float32) error {
	if i := engine.NonFinite(v); i >= 0 {
		return fmt.Errorf("%w: %s[%d] is %g", ErrFormat, name, i, v[i])
	}
	return nil
}

// tensorPrefix is how the names of the conv at s's tensors begin: stem,
// units.I.compress, units.I.spatial, units.I.expand or classifier, with I
// the unit's index in network order (not its stage and place in it).
func tensorPrefix(s engine.Slot) string {
	if s.Unit < 0 {
		return string(s.Role)
	}
	return "units." + strconv.Itoa(s.Unit) + "." + string(s.Role)
}

func weightShape(s engine.ConvShape) []int {
	if s.Role == engine.RoleClassifier {
		return []int{s.Out, s.In}
	}
	return []int{s.Out, s.In / s.Groups, s.Kernel, s.Kernel}
}

// quantizeInt8 quantizes weights symmetrically per output channel:
// scale = max|w| / 127 and q = round(w / scale), so q is in [-127, 127].
func quantizeInt8(w []float32, outputs int) ([]int8, []float32) {
	q := make([]int8, len(w))
	scales := make([]float32, outputs)
	per := len(w) / outputs
	for o := range outputs {
		row := w[o*per : (o+1)*per]
		var peak float32
		for _, v := range row {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		if peak == 0 {
			continue
		}
		scales[o] = peak / 127
		for i, v := range row {
			q[o*per+i] = int8(max(-127, min(127, math.Round(float64(v/scales[o])))))
		}
	}
	return q, scales
}

// dequantizeInt8 inverts quantizeInt8: w = q * scale of q's output channel.
// q holds int8 values, or their bytes as stored. It goes output channel by
// output channel rather than dividing every index, 8 values at a time
// (one bounds check and one back edge for 8): loading a model in the
// browser runs it before V8 optimizes anything, and there each branch of
// Go code costs a jump table.
func dequantizeInt8[T int8 | byte](q []T, scales []float32) []float32 {
	w := make([]float32, len(q))
	per := len(q) / len(scales)
	for o, scale := range scales {
		in, out := q[o*per:(o+1)*per], w[o*per:(o+1)*per]
		i := 0
		for ; i+8 <= len(in); i += 8 {
			q, w := in[i:i+8:i+8], out[i:i+8:i+8]
			w[0], w[1], w[2], w[3] = float32(int8(q[0]))*scale, float32(int8(q[1]))*scale, float32(int8(q[2]))*scale, float32(int8(q[3]))*scale
			w[4], w[5], w[6], w[7] = float32(int8(q[4]))*scale, float32(int8(q[5]))*scale, float32(int8(q[6]))*scale, float32(int8(q[7]))*scale
		}
		for ; i < len(in); i++ {
			out[i] = float32(int8(in[i])) * scale
		}
	}
	return w
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// float16Bytes converts to IEEE half precision, refusing values beyond its range.
func float16Bytes(v []float32) ([]byte, error) {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		h := float16.Fromfloat32(x)
		if h.IsInf(0) {
			return nil, fmt.Errorf("weight %d (%g) overflows float16; use f32", i, x)
		}
		binary.LittleEndian.PutUint16(b[2*i:], h.Bits())
	}
	return b, nil
}

// AsStored returns p as it reads back from a file that stores conv i's
// weights as dtypes[i]: what a conversion's choice of dtypes costs.
func AsStored(arch engine.Architecture, p engine.Params, dtypes []DType) engine.Params {
	q := engine.Params{Units: make([]engine.UnitParams, len(p.Units))}
	for s, conv := range arch.Convs() {
		c := p.Conv(s)
		w := c.Weight
		switch dtypes[s.Index] {
		case Int8:
			w = dequantizeInt8(quantizeInt8(c.Weight, conv.Out))
		case Float16:
			w = make([]float32, len(c.Weight))
			for j, v := range c.Weight {
				w[j] = float16.Fromfloat32(v).Float32()
			}
		}
		*q.Conv(s) = engine.Conv{Weight: w, Bias: c.Bias}
	}
	return q
}

// LayerNames lists every conv's tensor-name prefix in network order (stem,
// units.I.compress, ..., classifier): the order of Model.DTypes.
func LayerNames(a engine.Architecture) []string {
	var names []string
	for s := range a.Convs() {
		names = append(names, tensorPrefix(s))
	}
	return names
}

// Network builds the engine network the file describes.
func (m *Model) Network() (*engine.Network, error) {
	return engine.New(m.Arch, m.Params)
}

// NetworkWithoutShuffle is the same model with every channel shuffle
// replaced by the identity (see engine.NewWithoutShuffle).
func (m *Model) NetworkWithoutShuffle() (*engine.Network, error) {
	return engine.NewWithoutShuffle(m.Arch, m.Params)
}
