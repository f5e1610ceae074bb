//go:build (goexperiment.simd && amd64) || (js && wasm && !nosimd128)

package engine

import (
	"fmt"
	"math/rand/v2"
)

// The shapes every fast kernel (AVX-512, AVX2, SIMD128) is compared with
// the portable kernel on: the networks' layers and awkward ones, channel
// counts that leave a partial block, maps whose size is not a multiple of
// the vector, odd widths, both strides, the compress conv's plane
// remapping. A kernel set without a kernel for a shape (the portable one
// runs there) skips it.

type pointwiseCase struct {
	in, out, groups, hw int
	ep                  epilogue
	shuffled            bool
}

var pointwiseCases = []pointwiseCase{
	{in: 24, out: 60, groups: 1, hw: 3136, ep: relu},                 // Megvii's dense first compress
	{in: 240, out: 60, groups: 3, hw: 784, ep: relu, shuffled: true}, // compress, 20 rows per group
	{in: 60, out: 240, groups: 3, hw: 784, ep: addReLU},              // expand with residual
	{in: 30, out: 108, groups: 3, hw: 196, ep: relu},                 // 36 rows per group
	{in: 480, out: 120, groups: 3, hw: 49, ep: relu, shuffled: true}, // 7x7: not whole vectors
	{in: 120, out: 480, groups: 3, hw: 49, ep: addReLU},
	{in: 10, out: 10, groups: 1, hw: 1, ep: linear},    // one pixel, one partial block
	{in: 5, out: 7, groups: 1, hw: 17, ep: relu},       // odd everything
	{in: 26, out: 16, groups: 2, hw: 33, ep: addReLU},  // 8 rows per group
	{in: 16, out: 40, groups: 8, hw: 15, ep: linear},   // 5 rows per group
	{in: 12, out: 30, groups: 3, hw: 3136, ep: relu},   // 10 rows per group, Megvii 0.5x
	{in: 72, out: 72, groups: 8, hw: 100, ep: addReLU}, // 9 in and out per group
	{in: 3, out: 6, groups: 1, hw: 4, ep: relu},        // one vector
	{in: 1, out: 3, groups: 1, hw: 9, ep: linear},      // one input channel
}

func (c pointwiseCase) String() string {
	name := fmt.Sprintf("%dto%d_g%d_hw%d_ep%d", c.in, c.out, c.groups, c.hw, c.ep)
	if c.shuffled {
		name += "_shuffled"
	}
	return name
}

// layer is the case's conv with random weights.
func (c pointwiseCase) layer(rng *rand.Rand) pointwise {
	p := pointwise{in: c.in, out: c.out, groups: c.groups, hw: c.hw, ep: c.ep,
		weight: randomSlice(rng, c.out*c.in/c.groups, -1, 1), bias: randomSlice(rng, c.out, -1, 1)}
	if c.shuffled {
		p.planes = compressPlanes(Architecture{Groups: c.groups, Shuffle: ShuffleStandard}, c.out)
	}
	return p
}

// pointwiseFixture is where a pointwise case's test starts: the layer,
// its input and residual maps with NaN room around them, what the
// portable kernel makes of them, and the rng for the rest of the test.
type pointwiseFixture struct {
	rng           *rand.Rand
	layer         pointwise
	src, residual paddedMaps
	want          []float32
}

func (c pointwiseCase) fixture(room int) pointwiseFixture {
	rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.hw)))
	f := pointwiseFixture{rng: rng, layer: c.layer(rng)}
	f.src = nanRoom(rng, c.in*c.hw, room)
	f.residual = nanRoom(rng, c.out*c.hw, room)
	f.want = make([]float32, c.out*c.hw)
	f.layer.runPortable(f.want, f.src.maps, f.residual.maps)
	return f
}

type conv3x3Case struct {
	in, out, groups, stride, inSize int
	ep                              epilogue
}

var conv3x3Cases = []conv3x3Case{
	{in: 3, out: 24, groups: 1, stride: 2, inSize: 224, ep: relu}, // the stem
	{in: 3, out: 12, groups: 1, stride: 2, inSize: 224, ep: linear},
	{in: 3, out: 12, groups: 1, stride: 2, inSize: 64, ep: linear},
	{in: 3, out: 10, groups: 1, stride: 2, inSize: 224, ep: relu},  // the stem kernel's blocks: 6, then 4
	{in: 3, out: 8, groups: 1, stride: 2, inSize: 224, ep: linear}, // 6, then 2
	{in: 4, out: 5, groups: 1, stride: 2, inSize: 6, ep: relu},     // a partial block of outputs, 9 pixels
	{in: 60, out: 60, groups: 3, stride: 2, inSize: 56},            // the seed's grouped convs
	{in: 60, out: 60, groups: 3, stride: 1, inSize: 28},
	{in: 120, out: 120, groups: 3, stride: 1, inSize: 14},
	{in: 240, out: 240, groups: 3, stride: 1, inSize: 7},
	{in: 6, out: 10, groups: 2, stride: 1, inSize: 9}, // odd: 5x5 tiles, the last row and column half outside; partial blocks
	{in: 8, out: 8, groups: 2, stride: 1, inSize: 8},  // 4x4 tiles, one vector a row
	{in: 4, out: 8, groups: 2, stride: 1, inSize: 15}, // odd: 8x8 tiles, two vectors a row, the last not overlapping
	{in: 240, out: 240, groups: 3, stride: 2, inSize: 14},
	{in: 8, out: 10, groups: 2, stride: 1, inSize: 5, ep: relu}, // odd width, 5 rows a group
	{in: 7, out: 4, groups: 1, stride: 1, inSize: 2},            // 2x2: every pixel is a corner
	{in: 6, out: 6, groups: 3, stride: 2, inSize: 2},            // 1x1 output
	{in: 4, out: 8, groups: 1, stride: 1, inSize: 17},           // 289 pixels
	{in: 2, out: 2, groups: 1, stride: 1, inSize: 4},            // one vector a row
	{in: 2, out: 6, groups: 2, stride: 2, inSize: 12},           // three columns a phase
	{in: 60, out: 60, groups: 60, stride: 1, inSize: 28},        // depthwise
	{in: 60, out: 60, groups: 60, stride: 2, inSize: 56},
	{in: 120, out: 120, groups: 120, stride: 1, inSize: 14},
	{in: 240, out: 240, groups: 240, stride: 1, inSize: 7},
	{in: 120, out: 120, groups: 120, stride: 2, inSize: 28},
	{in: 240, out: 240, groups: 240, stride: 2, inSize: 14},
	{in: 8, out: 8, groups: 8, stride: 1, inSize: 14, ep: relu}, // a fixed size with the ReLU
	{in: 5, out: 5, groups: 5, stride: 1, inSize: 9, ep: relu},  // odd width, ReLU
	{in: 5, out: 5, groups: 5, stride: 2, inSize: 6, ep: relu},
	{in: 5, out: 5, groups: 5, stride: 2, inSize: 10, ep: relu},
	{in: 3, out: 3, groups: 3, stride: 1, inSize: 2},
	{in: 3, out: 3, groups: 3, stride: 1, inSize: 3, ep: relu}, // 9 pixels: two vectors, overlapping, no run clear of the edges
	{in: 4, out: 4, groups: 4, stride: 2, inSize: 2},           // 1x1 output: one pixel, stored masked
}

func (c conv3x3Case) String() string {
	return fmt.Sprintf("%dto%d_g%d_s%d_%dx%d_ep%d", c.in, c.out, c.groups, c.stride, c.inSize, c.inSize, c.ep)
}

func (c conv3x3Case) outSize() int { return c.inSize / c.stride }

// layer is the case's conv with random weights.
func (c conv3x3Case) layer(rng *rand.Rand) conv3x3 {
	return conv3x3{in: c.in, out: c.out, groups: c.groups, stride: c.stride, inSize: c.inSize, outSize: c.outSize(),
		weight: randomSlice(rng, c.out*c.in/c.groups*9, -1, 1), bias: randomSlice(rng, c.out, -1, 1), ep: c.ep}
}

// conv3x3Fixture is where a 3x3 case's test starts: the layer, its input
// maps with NaN room around them, what the portable kernel makes of them,
// and the rng for the rest of the test.
type conv3x3Fixture struct {
	rng   *rand.Rand
	layer conv3x3
	src   paddedMaps
	want  []float32
}

func (c conv3x3Case) fixture(room int) conv3x3Fixture {
	rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.inSize)))
	f := conv3x3Fixture{rng: rng, layer: c.layer(rng)}
	f.src = nanRoom(rng, c.in*c.inSize*c.inSize, room)
	f.want = make([]float32, c.out*c.outSize()*c.outSize())
	f.layer.runPortable(f.want, f.src.maps, make([]float32, c.inSize))
	return f
}

type poolCase struct {
	channels, inSize int
	average          bool
}

var poolCases = []poolCase{
	{24, 112, false}, // after the stem
	{12, 32, false},
	{5, 2, false}, // one output
	{3, 34, false},
	{3, 66, false}, // a partial last vector of outputs and of inputs
	{2, 8, false},  // one vector of outputs a row
	{24, 56, true}, // the stride-2 units' shortcuts
	{240, 28, true},
	{480, 14, true},
	{7, 2, true},
	{2, 4, true},
	{2, 8, true},
	{3, 18, true},
	{3, 36, true},
}

func (c poolCase) String() string {
	return fmt.Sprintf("%dx%dx%d_average%t", c.channels, c.inSize, c.inSize, c.average)
}

type classifierCase struct{ in, out int }

var classifierCases = []classifierCase{{960, 1000}, {480, 1000}, {1536, 1000}, {3, 7}, {17, 64}, {64, 65}, {1, 1}, {9, 2}}

func (c classifierCase) String() string { return fmt.Sprintf("%dto%d", c.in, c.out) }

// classifierFixture is where a classifier case's test starts: the layer,
// its input, what the portable kernel makes of it, and the rng for the
// rest of the test.
type classifierFixture struct {
	rng       *rand.Rand
	layer     classifier
	src, want []float32
}

func (c classifierCase) fixture() classifierFixture {
	rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.out)))
	f := classifierFixture{rng: rng, layer: classifier{in: c.in, out: c.out, weight: randomSlice(rng, c.in*c.out, -1, 1), bias: randomSlice(rng, c.out, -1, 1)}}
	f.src = randomSlice(rng, c.in, -1, 1)
	f.want = make([]float32, c.out)
	f.layer.run(f.want, f.src)
	return f
}
