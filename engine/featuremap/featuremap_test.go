package featuremap

import (
	"math"
	"math/rand/v2"
	"testing"
)

// shapes are ShuffleNet V1's layers (g = 3 and g = 8), a g = 3 compress
// output and the smallest possible layer.
var shapes = []struct{ channels, size int }{
	{24, 56}, {240, 28}, {480, 14}, {960, 7}, {60, 56}, {1, 1}, {384, 28}, {1536, 7},
}

func TestNewLayout(t *testing.T) {
	for _, s := range shapes {
		for _, maxWidth := range []int{640, 1024, 100000} {
			l, err := NewLayout(s.channels, s.size, maxWidth)
			if err != nil {
				t.Errorf("NewLayout(%d, %d, %d): %v", s.channels, s.size, maxWidth, err)
				continue
			}
			if l.Channels != s.channels || l.Size != s.size || l.Scale < 1 || l.Gap < 1 {
				t.Errorf("%d maps of %d in %d: %+v", s.channels, s.size, maxWidth, l)
			}
			if l.Width > min(maxWidth, MaxSide) || l.Height > l.Width {
				t.Errorf("%+v: %dx%d, want at most %d wide and no taller than wide", l, l.Width, l.Height, maxWidth)
			}
			if l.Columns*l.Rows < l.Channels || (l.Rows-1)*l.Columns >= l.Channels {
				t.Errorf("%+v: %d cells for %d maps, or an empty row", l, l.Columns*l.Rows, l.Channels)
			}
			// One scale more does not fit, with either gap.
			for _, gap := range []int{1, 2} {
				if w := l.Columns*(l.Size*(l.Scale+1)+gap) - gap; w <= min(maxWidth, MaxSide) {
					t.Errorf("%+v: scale %d would fit (%d wide)", l, l.Scale+1, w)
				}
			}
			// Every channel's cell lies inside the picture and on no other's.
			side := l.Size * l.Scale
			for c := range l.Channels {
				x, y := l.Cell(c)
				if x < 0 || y < 0 || x+side > l.Width || y+side > l.Height {
					t.Fatalf("%+v: channel %d at (%d, %d) outside the picture", l, c, x, y)
				}
				for o := range c {
					if ox, oy := l.Cell(o); x < ox+side && ox < x+side && y < oy+side && oy < y+side {
						t.Fatalf("%+v: channels %d and %d overlap", l, o, c)
					}
				}
			}
			if err := l.check(); err != nil {
				t.Errorf("%+v: %v", l, err)
			}
		}
	}
}

func TestNewLayoutSizes(t *testing.T) {
	for _, tc := range []struct {
		channels, size, maxWidth int
		want                     Layout
	}{
		{24, 56, 640, Layout{Channels: 24, Size: 56, Scale: 2, Gap: 2, Columns: 5, Rows: 5, Width: 568, Height: 568}},
		{960, 7, 640, Layout{Channels: 960, Size: 7, Scale: 2, Gap: 1, Columns: 31, Rows: 31, Width: 464, Height: 464}},
		{240, 28, 480, Layout{Channels: 240, Size: 28, Scale: 1, Gap: 2, Columns: 16, Rows: 15, Width: 478, Height: 448}},
		{1, 1, 300, Layout{Channels: 1, Size: 1, Scale: 300, Gap: 2, Columns: 1, Rows: 1, Width: 300, Height: 300}},
		{2, 4, 10, Layout{Channels: 2, Size: 4, Scale: 1, Gap: 1, Columns: 2, Rows: 1, Width: 9, Height: 4}},
	} {
		got, err := NewLayout(tc.channels, tc.size, tc.maxWidth)
		if err != nil || got != tc.want {
			t.Errorf("NewLayout(%d, %d, %d) = %+v, %v; want %+v", tc.channels, tc.size, tc.maxWidth, got, err, tc.want)
		}
	}
}

func TestNewLayoutErrors(t *testing.T) {
	for _, tc := range []struct{ channels, size, maxWidth int }{
		{0, 7, 640}, {-1, 7, 640}, {24, 0, 640}, {24, -56, 640}, {24, 56, 0}, {24, 56, -1},
		{960, 7, 100},                 // 31 columns of 7 need 247 pixels
		{1, 57, 56},                   // one map wider than the picture
		{math.MaxInt, 1, math.MaxInt}, // more maps than MaxSide^2 pixels
		{1, math.MaxInt, math.MaxInt},
	} {
		if l, err := NewLayout(tc.channels, tc.size, tc.maxWidth); err == nil {
			t.Errorf("NewLayout(%d, %d, %d) = %+v, want an error", tc.channels, tc.size, tc.maxWidth, l)
		}
	}
}

// pixel returns the colour at (x, y), checking that it is opaque.
func pixel(t *testing.T, l Layout, dst []byte, x, y int) Colour {
	t.Helper()
	p := dst[4*(y*l.Width+x):][:4]
	if p[3] != 255 {
		t.Errorf("pixel (%d, %d) alpha %d, want 255", x, y, p[3])
	}
	return Colour{p[0], p[1], p[2]}
}

var (
	zero = Colour{zeroR, zeroG, zeroB}
	grey = Colour{negR, negG, negB}
	gap  = Colour{gapR, gapG, gapB}
)

func TestRender(t *testing.T) {
	red, green, blue := Colour{255, 0, 0}, Colour{0, 255, 0}, Colour{0, 0, 255}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, tc := range []struct {
		name string
		maps [3]float32 // one value each for three 2x2 maps, all four pixels alike
		want [3]Colour
	}{
		{"strong, dead, negative", [3]float32{5, 0, -5}, [3]Colour{red, zero, grey}},
		{"all zero", [3]float32{0, 0, 0}, [3]Colour{zero, zero, zero}},
		{"NaN is zero", [3]float32{nan, 5, nan}, [3]Colour{zero, green, zero}},
		{"infinities are full", [3]float32{inf, -inf, 1}, [3]Colour{red, grey, blue}},
		{"all NaN", [3]float32{nan, nan, nan}, [3]Colour{zero, zero, zero}},
		{"tiny values", [3]float32{1e-30, -1e-30, 0}, [3]Colour{red, grey, zero}},
		{"huge values", [3]float32{math.MaxFloat32, -math.MaxFloat32, 0}, [3]Colour{red, grey, zero}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLayout(3, 2, 10) // 2 columns at scale 2: 2 rows, one empty cell
			if err != nil {
				t.Fatal(err)
			}
			maps := make([]float32, 3*4)
			for c, v := range tc.maps {
				for i := range 4 {
					maps[4*c+i] = v
				}
			}
			dst := make([]byte, 4*l.Width*l.Height)
			if err := l.Render(dst, maps, []Colour{red, green, blue}); err != nil {
				t.Fatal(err)
			}
			for c, want := range tc.want {
				x0, y0 := l.Cell(c)
				for y := y0; y < y0+l.Size*l.Scale; y++ {
					for x := x0; x < x0+l.Size*l.Scale; x++ {
						if got := pixel(t, l, dst, x, y); got != want {
							t.Fatalf("channel %d pixel (%d, %d) = %v, want %v", c, x, y, got, want)
						}
					}
				}
			}
			// The gap column between the cells and the empty fourth cell.
			if got := pixel(t, l, dst, l.Size*l.Scale, 0); got != gap {
				t.Errorf("gap pixel = %v, want %v", got, gap)
			}
			x, y := l.Cell(3)
			if got := pixel(t, l, dst, x, y); got != gap {
				t.Errorf("empty cell pixel = %v, want %v", got, gap)
			}
		})
	}
}

func TestRenderScale(t *testing.T) {
	// One map of 200x200: a ramp from 0 to 1 and one outlier of 1e6. The
	// outlier does not set the level; values near the top are near full.
	const size = 200
	l, err := NewLayout(1, size, size)
	if err != nil {
		t.Fatal(err)
	}
	maps := make([]float32, size*size)
	for i := range maps {
		maps[i] = float32(i) / float32(len(maps))
	}
	maps[0] = 1e6
	dst := make([]byte, 4*l.Width*l.Height)
	white := Colour{255, 255, 255}
	if err := l.Render(dst, maps, []Colour{white}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		x, y   int
		lo, hi uint8
	}{
		{0, 0, 255, 255},                   // the outlier saturates
		{1, 0, zeroR, zeroR},               // ~0
		{0, size / 2, 140, 160},            // 0.5 of a level within 1/16 below 0.995
		{size - 1, size - 1, 240, 255},     // ~1
		{size - 1, size - 2, 240, 255},     // ~1
		{size / 2, size * 3 / 4, 180, 210}, // 0.75
	} {
		if got := pixel(t, l, dst, tc.x, tc.y).R; got < tc.lo || got > tc.hi {
			t.Errorf("pixel (%d, %d) red %d, want %d to %d", tc.x, tc.y, got, tc.lo, tc.hi)
		}
	}
}

func TestLevel(t *testing.T) {
	ramp := make([]float32, 1000)
	for i := range ramp {
		ramp[i] = -float32(i + 1) // |v| from 1 to 1000; the 99.5th percentile is 995
	}
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name   string
		maps   []float32
		lo, hi float32
	}{
		{"ramp", ramp, 995 * 15 / 16, 995},
		{"one value", []float32{-3}, 3 * 15 / 16, 3},
		{"zeros", []float32{0, 0, 0}, 0x1p-126, 0x1p-126},
		{"NaN", []float32{float32(math.NaN())}, 0x1p-126, 0x1p-126},
		{"infinities", []float32{inf, inf, 2.1}, 2.1 * 15 / 16, 2.1},
		{"only infinity", []float32{inf}, 1, 1},
	} {
		if got := level(tc.maps); !(got >= tc.lo && got <= tc.hi) {
			t.Errorf("%s: level %g, want %g to %g", tc.name, got, tc.lo, tc.hi)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	l, err := NewLayout(24, 56, 640)
	if err != nil {
		t.Fatal(err)
	}
	maps, dst, colours := make([]float32, 24*56*56), make([]byte, 4*l.Width*l.Height), make([]Colour, 24)
	bad := l
	bad.Width++
	for _, tc := range []struct {
		name    string
		l       Layout
		maps    []float32
		dst     []byte
		colours []Colour
	}{
		{"short maps", l, maps[1:], dst, colours},
		{"long maps", l, append(maps, 0), dst, colours},
		{"short picture", l, maps, dst[4:], colours},
		{"long picture", l, maps, append(dst, 0, 0, 0, 0), colours},
		{"too few colours", l, maps, dst, colours[1:]},
		{"too many colours", l, maps, dst, append(colours, Colour{})},
		{"zero layout", Layout{}, nil, nil, nil},
		{"inconsistent layout", bad, maps, make([]byte, 4*bad.Width*bad.Height), colours},
		{"huge layout", Layout{Channels: 1, Size: MaxSide, Scale: MaxSide, Columns: 1, Rows: 1, Width: MaxSide, Height: MaxSide}, nil, nil, colours[:1]},
	} {
		if err := tc.l.Render(tc.dst, tc.maps, tc.colours); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestRenderAllocs(t *testing.T) {
	l, err := NewLayout(240, 28, 640)
	if err != nil {
		t.Fatal(err)
	}
	maps, dst, colours := randomMaps(240*28*28, 1), make([]byte, 4*l.Width*l.Height), make([]Colour, 240)
	if err := GroupColours(colours, 3); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10, func() {
		if err := l.Render(dst, maps, colours); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Render allocates %v times", n)
	}
}

func TestGroupColour(t *testing.T) {
	seen := map[Colour]int{}
	for g := range 8 {
		c := GroupColour(g)
		if o, ok := seen[c]; ok {
			t.Errorf("groups %d and %d share %v", o, g, c)
		}
		seen[c] = g
		if c == (Colour{}) || c == grey || c == zero || c.R == c.G && c.G == c.B {
			t.Errorf("group %d: %v is black or neutral", g, c)
		}
	}
	for _, g := range []int{8, 9, 17, -1, -8, math.MinInt, math.MaxInt} {
		if got, want := GroupColour(g), GroupColour(((g%8)+8)%8); got != want {
			t.Errorf("GroupColour(%d) = %v, want %v", g, got, want)
		}
	}
}

func TestGroupColours(t *testing.T) {
	for _, tc := range []struct {
		channels, groups int
		want             map[int]int // channel -> group
	}{
		{240, 3, map[int]int{0: 0, 79: 0, 80: 1, 159: 1, 160: 2, 239: 2}},
		{384, 8, map[int]int{0: 0, 47: 0, 48: 1, 383: 7}},
		{24, 1, map[int]int{0: 0, 23: 0}},
		{18, 18, map[int]int{0: 0, 8: 8, 17: 17}},
	} {
		colours := make([]Colour, tc.channels)
		if err := GroupColours(colours, tc.groups); err != nil {
			t.Fatal(err)
		}
		for c, g := range tc.want {
			if colours[c] != GroupColour(g) {
				t.Errorf("%d channels in %d groups: channel %d is %v, want group %d's %v", tc.channels, tc.groups, c, colours[c], g, GroupColour(g))
			}
		}
	}
	for _, tc := range []struct{ channels, groups int }{{240, 0}, {240, -3}, {240, 7}} {
		if err := GroupColours(make([]Colour, tc.channels), tc.groups); err == nil {
			t.Errorf("%d channels in %d groups: no error", tc.channels, tc.groups)
		}
	}
}

// randomMaps returns n values from seed: mostly normal, some zero, some
// negative, and now and then a NaN, an infinity, a huge or a tiny value.
func randomMaps(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0))
	special := []float32{
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -0.0, 1e30,
	}
	maps := make([]float32, n)
	for i := range maps {
		switch k := r.IntN(100); {
		case k < 30:
		case k < 33:
			maps[i] = special[r.IntN(len(special))]
		default:
			maps[i] = float32(r.NormFloat64())
		}
	}
	return maps
}

func FuzzRender(f *testing.F) {
	f.Add(uint16(24), uint8(56), uint16(640), uint64(1))
	f.Add(uint16(960), uint8(7), uint16(464), uint64(2))
	f.Add(uint16(1), uint8(1), uint16(1), uint64(3))
	f.Add(uint16(3), uint8(2), uint16(9), uint64(4))
	f.Fuzz(func(t *testing.T, channels uint16, size uint8, maxWidth uint16, seed uint64) {
		l, err := NewLayout(int(channels%2000), int(size), int(maxWidth))
		if err != nil {
			return
		}
		if l.Width > int(maxWidth) || l.Height > l.Width {
			t.Fatalf("NewLayout(%d, %d, %d) = %+v", channels, size, maxWidth, l)
		}
		maps := randomMaps(l.Channels*l.Size*l.Size, seed)
		colours := make([]Colour, l.Channels)
		for c := range colours {
			colours[c] = GroupColour(c)
		}
		dst := make([]byte, 4*l.Width*l.Height)
		if err := l.Render(dst, maps, colours); err != nil {
			t.Fatal(err)
		}
		for i := 3; i < len(dst); i += 4 {
			if dst[i] != 255 {
				t.Fatalf("%+v: pixel %d alpha %d", l, i/4, dst[i])
			}
		}
	})
}

func BenchmarkRender(b *testing.B) {
	l, err := NewLayout(240, 28, 640)
	if err != nil {
		b.Fatal(err)
	}
	maps, dst, colours := randomMaps(240*28*28, 1), make([]byte, 4*l.Width*l.Height), make([]Colour, 240)
	if err := GroupColours(colours, 3); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(maps)))
	for b.Loop() {
		if err := l.Render(dst, maps, colours); err != nil {
			b.Fatal(err)
		}
	}
}
