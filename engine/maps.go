package engine

// The SIMD kernels read and write whole vectors of 16 floats. A map's last
// vector usually hangs past its end, and a 3x3 conv's shifted reads start
// up to a row before its first pixel; the lanes that fall outside are
// masked off, but the slice expression that reaches them must still be in
// range. So every map buffer is allocated with room around it, and kernels
// reach into that room by reslicing up to the capacity (or, before a map,
// through paddedMaps). The portable kernels never look at the room.

// mapRoom is how far a kernel may read past a map buffer (or before a
// paddedMaps): one row of the widest map a 3x3 conv shifts across (the
// stem's phase planes, half the input) plus one pixel for the column
// shift, plus the four 16-float vectors of the widest tile.
func mapRoom(a Architecture) int { return a.Input.Crop/2 + 1 + 4*16 }

// newMaps returns n floats with room more floats of capacity after them.
func newMaps(n, room int) []float32 { return make([]float32, n, n+room) }

// paddedMaps holds maps with pad spare floats before and after them.
type paddedMaps struct {
	mem  []float32 // pad floats, the maps, pad floats
	maps []float32 // the maps: mem[pad : len(mem)-pad]
	pad  int
}

func newPaddedMaps(n, pad int) paddedMaps {
	mem := make([]float32, pad+n+pad)
	return paddedMaps{mem: mem, maps: mem[pad : pad+n], pad: pad}
}

// unpadded views maps without any room around them, for a kernel that
// only reads inside them (a stride-2 conv, which first copies its input).
func unpadded(maps []float32) paddedMaps { return paddedMaps{mem: maps, maps: maps} }
