//go:build goexperiment.simd && amd64

package engine

// A 3x3 conv with padding 1 is the sum of nine 1x1 convs, one per kernel
// tap, each reading the input shifted by the tap's offset. Over the
// flattened output map (pixel p = y*size + x) the shift is one constant
// offset into the input planes, so a single GEMM-like kernel runs the 1x1
// convs and every 3x3 conv alike, vectorised over runs of 16 consecutive
// pixels however narrow the map (a 7x7 map is 49 pixels, four vectors, not
// seven one-row vectors). What the shift drags in from outside the map (the
// previous row's last pixel, the plane before) is masked off lane by lane.
//
// Stride 2 becomes stride 1 the same way once the input is split into its
// four phases, the even and odd rows crossed with the even and odd columns,
// each an outSize x outSize map: input pixel (2y+dy, 2x+dx) of tap
// (dy, dx) is pixel (y+sy, x+sx) of phase (dy odd, dx odd), where the shift
// s is -1 for d = -1 and 0 otherwise. The input's size is even, so the
// phases are whole maps and only the top row and left column pad.

// vectorLanes is the size of the plans' pixel vectors: 16 float32 lanes,
// one AVX-512 register or two AVX2 ones.
const vectorLanes = 16

// tap is one term of the sum: output pixel p reads source index
// plane + p + offset, where plane is where its input channel's plane
// starts (for stride 2, that channel's plane of phase 0).
type tap struct {
	offset int
	// masks[v] has bit l set when pixel 16v+l exists and its input is
	// inside the map; the kernel loads only those lanes.
	masks []uint16
}

// tapPlan is how a conv's kernel walks its output map.
type tapPlan struct {
	taps []tap
	hw   int // output pixels per plane
	// vectors is the number of pixel vectors per plane, rounded up to a
	// whole tile of the kernel's; the masks of the vectors past the map
	// are zero, so a tile may run past the map's end.
	vectors int
	// planeStride separates consecutive input channels in the source: the
	// input map's size at stride 1, a phase plane's at stride 2.
	planeStride int
	// phaseStride separates the four phase planes of one channel (stride 2).
	phaseStride int
}

// pointwisePlan is the plan of a 1x1 conv: one tap, no shift, masks that
// only cut the map's last vector short.
func pointwisePlan(hw, tile int) tapPlan {
	p := tapPlan{hw: hw, vectors: roundUp(ceilDiv(hw, vectorLanes), tile), planeStride: hw}
	p.taps = []tap{{masks: make([]uint16, p.vectors)}}
	for v := range p.vectors {
		p.taps[0].masks[v] = tailMask(hw, v)
	}
	return p
}

// conv3x3Plan is the plan of a 3x3 conv with padding 1 and the given
// stride over inputs of `channels` planes, with outSize x outSize outputs,
// for a kernel whose tiles are `tile` vectors. Taps are in the weights'
// order: ky, then kx.
func conv3x3Plan(outSize, stride, channels, tile int) tapPlan {
	hw := outSize * outSize
	p := tapPlan{hw: hw, vectors: roundUp(ceilDiv(hw, vectorLanes), tile), planeStride: hw}
	if stride == 2 {
		p.phaseStride = channels * hw
	}
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			sy, sx, phase := dy, dx, 0
			if stride == 2 {
				sy, sx = min(dy, 0), min(dx, 0)
				phase = 2*(dy&1) + (dx & 1)
			}
			t := tap{offset: phase*p.phaseStride + sy*outSize + sx, masks: make([]uint16, p.vectors)}
			for v := range p.vectors {
				for l := range vectorLanes {
					q := v*vectorLanes + l
					y, x := q/outSize+sy, q%outSize+sx
					if q < hw && y >= 0 && y < outSize && x >= 0 && x < outSize {
						t.masks[v] |= 1 << l
					}
				}
			}
			p.taps = append(p.taps, t)
		}
	}
	return p
}

// tailMask is the mask of the pixels of vector v that exist in a map of hw.
func tailMask(hw, v int) uint16 {
	n := min(max(hw-v*vectorLanes, 0), vectorLanes)
	return uint16(1<<n - 1)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
