//go:build (goexperiment.simd && amd64) || (js && wasm && !nosimd128)

package engine

import (
	"math"
	"math/rand/v2"
)

// Tests of the vector kernels fill the room around every map with NaN, so
// that a lane that reads outside its map, or a store that writes outside
// it, shows up.

// nanRoom returns n random floats in a buffer whose room (before and
// after) holds NaN, as newPaddedMaps lays it out.
func nanRoom(rng *rand.Rand, n, room int) paddedMaps {
	m := newPaddedMaps(n, room)
	for i := range m.mem {
		m.mem[i] = float32(math.NaN())
	}
	copy(m.maps, randomSlice(rng, n, -1, 1))
	return m
}
