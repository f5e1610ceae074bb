// Package hostile makes, for tests, the small files that attack an image
// classifier: images whose header, shape or encoding makes a naive decoder
// spend far more memory or time than their size suggests. The tests build
// them on the fly, so no such file is committed.
package hostile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"runtime"
)

// Allocated is how many bytes f allocates on the heap, the measure the
// tests hold each hostile input's cost to (the heap is collected first,
// so that earlier garbage does not count).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// PNG is a valid, all-black grayscale PNG of w x h pixels: 1 x 1,000,000
// is about 2 KB, and its shorter side resized to 256 would be 256 x
// 256,000,000 pixels.
func PNG(w, h int) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		panic(err) // an in-memory encode of a valid image cannot fail
	}
	return buf.Bytes()
}

// BombPNG is a 1 x 1 PNG whose header claims w x h pixels (a
// decompression bomb: a few dozen bytes that would decode into w*h*4).
func BombPNG(w, h uint32) []byte {
	b := PNG(1, 1)
	binary.BigEndian.PutUint32(b[16:20], w) // IHDR width
	binary.BigEndian.PutUint32(b[20:24], h) // IHDR height
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// SlowJPEG is a valid grayscale progressive JPEG of w x h pixels made of
// scans AC refinement scans, each a few bytes of end-of-band runs that
// make a decoder pass over every 8 x 8 block: about 20 bytes a scan, and
// 7 ms a scan at 2000 x 2000 (30 at 4000 x 4000) for Go's image/jpeg, so
// 48 KB of it take 20 s.
func SlowJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8}) // SOI
	// DQT: table 0, all ones.
	b.Write([]byte{0xFF, 0xDB, 0, 67, 0})
	b.Write(bytes.Repeat([]byte{1}, 64))
	// SOF2 (progressive): 8 bits, h x w, one component using table 0.
	b.Write([]byte{0xFF, 0xC2, 0, 11, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	// DHT: AC table 0 with one code, "0", for symbol 0xE0: a run of
	// 2^14 + (the next 14 bits) blocks with nothing left to code.
	b.Write([]byte{0xFF, 0xC4, 0, 20, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xE0})

	// Each run is "0" then 14 bits of 1010...: 27,306 blocks, and no byte
	// of the scan is 0xFF (which would need stuffing).
	const run = 1<<14 + 0b10101010101010
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	var bits []byte
	for range blocks/run + 1 {
		bits = append(bits, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0)
	}
	for len(bits)%8 != 0 {
		bits = append(bits, 1)
	}
	var scan []byte
	for i := 0; i < len(bits); i += 8 {
		var v byte
		for _, bit := range bits[i : i+8] {
			v = v<<1 | bit
		}
		scan = append(scan, v)
	}
	for range scans {
		// SOS: component 1, table 0, spectral 1..63, successive approximation 1 -> 0.
		b.Write([]byte{0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 63, 0x10})
		b.Write(scan)
	}
	b.Write([]byte{0xFF, 0xD9}) // EOI
	return b.Bytes()
}
