package heatmap

import "testing"

func TestRender(t *testing.T) {
	// Evidence in the top-left cell only.
	cam := make([]float32, 49)
	cam[0] = 10
	dst := make([]byte, 4*224*224)
	Render(dst, cam, 7, 224)
	topLeft, bottomRight := dst[:4], dst[len(dst)-4:]
	if topLeft[0] < 200 || topLeft[2] > 50 || topLeft[3] < 200 {
		t.Errorf("top-left pixel %v: want opaque red", topLeft)
	}
	if bottomRight[2] < 100 || bottomRight[0] > 50 || bottomRight[3] > 60 {
		t.Errorf("bottom-right pixel %v: want faint blue", bottomRight)
	}
	// A flat map is drawn without dividing by zero.
	Render(dst, make([]float32, 49), 7, 224)
	if dst[3] != 40 {
		t.Errorf("flat map alpha %d, want 40", dst[3])
	}
}

// BenchmarkRender renders a 7x7 map over a 224x224 crop, as the page does
// with each classification while the heat map is shown (and each worker
// in its warm-up passes).
func BenchmarkRender(b *testing.B) {
	const side, size = 7, 224
	cam := make([]float32, side*side)
	for i := range cam {
		cam[i] = float32(i%5) - 1.5
	}
	dst := make([]byte, 4*size*size)
	for b.Loop() {
		Render(dst, cam, side, size)
	}
}
