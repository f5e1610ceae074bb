// Package abi is the calling interface between the engine and its
// WebAssembly SIMD128 kernel module: the names of the module's exports,
// each export's parameters in order, the codes its parameters take and the
// kernels' variant tables. The kernel generator (internal/simd128) writes
// the module from these definitions and the engine's wasm build
// (engine/*simd128*_wasm.go) calls it by them, so the two sides agree by
// construction where they can and by test where they cannot: the engine's
// //go:wasmimport declarations are written by hand, and a test in the
// engine checks them against Exports.
//
// It is a package of its own, depending on nothing but the standard
// library, so that the browser's engine links these few definitions and
// not the generator.
package abi

import "fmt"

// HostModule is the module name under which the engine imports the
// kernels (//go:wasmimport simd128 name): the JavaScript host
// (web/static/simd128.js) forwards each name to the kernel module's export
// of that name.
const HostModule = "simd128"

// Instantiate is the one function of HostModule that the host answers
// itself rather than forwarding to an export: instantiate() returns
// Plain or Fused when the kernels are instantiated and ready to call,
// Unavailable when they cannot run here (the engine then runs its
// portable kernels).
const Instantiate = "instantiate"

// What instantiate() answers: which build of the kernels runs, if any.
const (
	Unavailable = 0
	Plain       = 1 // the same results as the portable kernels
	Fused       = 2 // the convs use fused multiply-adds
)

// FusedSection is the custom section that marks the fused build of the
// kernel module; the host answers Fused for a module that has it.
const FusedSection = "shufflenet.fused"

// The kernel module imports its memory as MemoryModule.MemoryName, and the
// host passes the Go program's own memory there, so the kernels read and
// write Go's buffers in place at the addresses the engine passes.
const (
	MemoryModule = "go"
	MemoryName   = "mem"
)

// ValType is a WebAssembly value type, by its code in the binary format.
type ValType byte

// I32 is the only type the exports take: addresses in Go's memory (which
// is 32-bit on wasm) and counts and codes alike.
const I32 ValType = 0x7f

func (t ValType) String() string {
	if t == I32 {
		return "i32"
	}
	return fmt.Sprintf("valtype(%#x)", byte(t))
}

// Param is a parameter of an export.
type Param struct {
	Name string
	Type ValType
	// Address: a byte address in Go's memory, which Go passes as an
	// unsafe.Pointer; otherwise a count or a code, passed as an int32.
	Address bool
}

// Func is an export of the kernel module. No export returns a value.
type Func struct {
	Name   string
	Params []Param
}

// addresses and counts make parameters of each kind, and concat joins
// them in order: the lists below read as the kernels' signatures.
func addresses(names ...string) []Param {
	ps := make([]Param, len(names))
	for i, n := range names {
		ps[i] = Param{Name: n, Type: I32, Address: true}
	}
	return ps
}

func counts(names ...string) []Param {
	ps := make([]Param, len(names))
	for i, n := range names {
		ps[i] = Param{Name: n, Type: I32}
	}
	return ps
}

func concat(lists ...[]Param) []Param {
	var ps []Param
	for _, l := range lists {
		ps = append(ps, l...)
	}
	return ps
}

// The exports. Sizes are in floats unless they say bytes; weights are laid
// out as each kernel reads them (the engine lays them out once, when it
// builds a layer).
var (
	// Pointwise runs a grouped 1x1 conv: dst = ep(W*src + bias (+
	// residual)). weights are [group][block of PointwiseBlock outputs]
	// [input of the group][row in block]; planes holds, for each output
	// channel, the byte offset of its plane in dst (and residual); ep is an
	// Epilogue. hw is the pixels of a map; inPer and outPer the channels of
	// a group.
	Pointwise = Func{"pointwise", concat(
		addresses("dst", "src", "residual", "weights", "bias", "planes"),
		counts("hw", "inPer", "outPer", "groups", "ep"))}

	// Pad1 copies channels size x size planes from src into dst with a
	// border of zeros, (size+2) x (size+2), for a stride-1 conv3x3.
	Pad1 = Func{"pad1", concat(addresses("dst", "src"), counts("channels", "size"))}

	// Pad2 copies channels size x size planes from src into dst for a
	// stride-2 conv3x3: size+1 rows (a row of zeros first), each a zero,
	// the odd columns and the even columns.
	Pad2 = Func{"pad2", concat(addresses("dst", "src"), counts("channels", "size"))}

	// Conv3x3 runs a 3x3 conv on the input padded by Pad1 or Pad2, with the
	// variant ConvVariants[variant]. weights are [out][input of the
	// group][tap], as the engine holds them; relu != 0 applies a ReLU.
	Conv3x3 = Func{"conv3x3", concat(
		counts("variant"),
		addresses("dst", "padded", "weights", "bias"),
		counts("out", "inPer", "outPer", "outSize", "relu"))}

	// Grouped runs a grouped 3x3 conv whose groups have a multiple of 4
	// outputs on the padded input, 4 output channels per vector, with the variant
	// GroupedVariants[variant]. weights are [block of 4 outputs][input of
	// the group][tap][output in block]; sums is scratch for 4 maps.
	Grouped = Func{"grouped", concat(
		counts("variant"),
		addresses("dst", "padded", "weights", "bias", "sums"),
		counts("out", "inPer", "outPer"))}

	// Pool runs a 3x3 stride-2 pool of channels inSize x inSize maps: a max
	// pool, or an average pool and a ReLU when average != 0.
	Pool = Func{"pool", concat(addresses("dst", "src"), counts("channels", "inSize", "average"))}

	// GlobalPool writes the mean of each of channels (a multiple of 4)
	// maps of hw floats: the global average pool before the classifier.
	GlobalPool = Func{"globalPool", concat(addresses("dst", "src"), counts("channels", "hw"))}

	// Classifier runs the fully connected layer, in inputs to out outputs.
	// weights are [block of 4 outputs][input][output in block], zero past
	// the last output.
	Classifier = Func{"classifier", concat(addresses("dst", "src", "weights", "bias"), counts("in", "out"))}

	// Stem runs the stem conv, 3 input channels to out (an even number)
	// output channels of StemSize x StemSize, stride 2, on the input padded
	// by Pad2. weights are [out][input][tap], as the engine holds them;
	// relu != 0 applies a ReLU. Only the fused build has it: it keeps the
	// sums of 6 outputs by 8 pixels in registers, adding all 27 taps with
	// fused multiply-adds, which the portable kernel's order (the taps of
	// one input channel summed, then added) does not allow.
	Stem = Func{"stem", concat(addresses("dst", "padded", "weights", "bias"), counts("out", "relu"))}
)

// The fused build's Winograd transforms (F(2x2, 3x3)) for the stride-1
// grouped 3x3 convs, between which the engine runs the products as a
// pointwise conv. positions are the 16 of a 4x4 tile; a map of size s has
// T = (s+1)/2 tiles a side, T at least 4.
var (
	// WinogradInput writes the transformed input tiles of channels
	// Pad1-padded size x size maps, dst[position][channel][tile]. It
	// reads past the last padded map: a padded row and 3 floats for an
	// odd size, 2 floats for an even one; what it reads there reaches only
	// outputs that WinogradOutput does not store.
	WinogradInput = Func{"winogradInput", concat(addresses("dst", "padded"), counts("channels", "size"))}

	// WinogradOutput writes out size x size maps from the summed products
	// products[position][channel][tile], each plus its bias.
	WinogradOutput = Func{"winogradOutput", concat(addresses("dst", "products", "bias"), counts("out", "size"))}
)

// StemSize is the output size Stem computes: ShuffleNet's stem at 224x224.
const StemSize = 112

// Exports are the kernel module's exports, in the module's order; the
// fused build has FusedExports after them.
var Exports = []Func{Pointwise, Pad1, Pad2, Conv3x3, Grouped, Pool, GlobalPool, Classifier}

// FusedExports are the exports only the fused build has.
var FusedExports = []Func{Stem, WinogradInput, WinogradOutput}

// Epilogue is what a pointwise conv does to each sum before storing it,
// fused into the conv so every output is written once. The engine's
// layers hold it and Pointwise takes it as its ep.
type Epilogue int32

const (
	Linear  Epilogue = iota // y = Wx + b
	ReLU                    // y = max(Wx + b, 0)
	AddReLU                 // y = max(Wx + b + residual, 0): a stride-1 unit's end
)

// PointwiseRows is how many output channels a block of Pointwise's weights
// holds in the plain build, and FusedPointwiseRows in the fused build: the
// kernel accumulates that many rows at once. Six rows by two vectors are 12
// sums in registers in the fused build, which with the two inputs and a
// weight fill V8's 15 vector registers; see internal/simd128/pointwise.go
// for why that many. The plain build, which WebKit runs, keeps 4: its
// blocks of 6 made WebKitGTK's Megvii g3 0.5x 3 times slower (2.4 to 8.1
// ms), the rows' weights no longer fitting its registers.
const (
	PointwiseRows      = 4
	FusedPointwiseRows = 6
)

// PointwiseBlock is the block size of Pointwise's weights in the fused
// build or the plain one.
func PointwiseBlock(fused bool) int {
	if fused {
		return FusedPointwiseRows
	}
	return PointwiseRows
}

// Variant is a version of a 3x3 kernel, for a stride and one output size
// known when the kernel is written (so its loops are unrolled and its taps
// constant offsets), or for any output size (OutSize 0).
type Variant struct{ Stride, OutSize int }

// Variants is a kernel's table of variants; the engine passes an index in
// it.
type Variants []Variant

// Of is the index of the variant for a conv of stride and outSize: the one
// for that size, else the one for any size at that stride, else -1.
func (vs Variants) Of(stride, outSize int) int32 {
	generic := int32(-1)
	for i, v := range vs {
		switch {
		case v.Stride == stride && v.OutSize == outSize:
			return int32(i)
		case v.Stride == stride && v.OutSize == 0:
			generic = int32(i)
		}
	}
	return generic
}

// ConvVariants are Conv3x3's variants: any size at each stride, and
// ShuffleNet's sizes at 224x224.
var ConvVariants = Variants{{1, 0}, {2, 0}, {1, 7}, {1, 14}, {1, 28}, {2, 7}, {2, 14}, {2, 28}, {2, 112}}

// GroupedVariants are Grouped's variants: the seed's sizes at 224x224 and
// no others (other convs run Conv3x3).
var GroupedVariants = Variants{{1, 7}, {1, 14}, {1, 28}, {2, 7}, {2, 14}, {2, 28}}
