package convert

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights"
)

// Plan is a per-layer choice of storage types for an int8 file, with the
// measurements behind it.
type Plan struct {
	DTypes []weights.DType
	// Names are the layers' tensor-name prefixes, in network order.
	Names []string
	// Sensitivity[i] is how much quantizing layer i alone to int8 moves the
	// logits on the calibration images: 1 - their worst cosine similarity.
	Sensitivity []float64
	// Cosine is the worst cosine similarity between the plan's logits and
	// the float model's on the calibration images.
	Cosine float64
}

// Float16Layers lists the layers the plan keeps in float16.
func (p Plan) Float16Layers() []string {
	var out []string
	for i, dt := range p.DTypes {
		if dt == weights.Float16 {
			out = append(out, p.Names[i])
		}
	}
	return out
}

const (
	// SensitiveLayer is the sensitivity above which a layer is kept in
	// float16: quantizing it alone costs more than 0.1% of cosine similarity.
	// Measured on the real Megvii g3 0.5x, the stem is at 8e-3 (its three
	// input channels carry 0..255 pixels, so few weights do all the work);
	// every other layer is below 6e-4, near int8's noise floor: keeping them
	// in float16 as well gains almost nothing.
	SensitiveLayer = 1e-3
	// MinCosine is the agreement with the float model a plan must reach on
	// the calibration images; more layers go to float16 until it does.
	MinCosine = 0.99
)

// PlanInt8 chooses which layers to store in int8 and which in float16, by
// measured effect: it quantizes each layer alone and measures how far the
// logits move on calibration images. Layers above SensitiveLayer stay in
// float16; if the whole model still agrees with the float one less than
// MinCosine, the next most sensitive layers follow until it does.
//
// The calibration images are synthetic (smooth colour fields, shapes and
// texture, drawn from a fixed seed), because a converter cannot count on a
// dataset; the fidelity tests check the result on real photos. The per-layer
// sweep runs at 128x128 to be quick (the network is fully convolutional), the
// final check at the model's own input size.
func PlanInt8(arch engine.Architecture, p engine.Params) (Plan, error) {
	return planInt8(arch, p, nil)
}

// planInt8 is PlanInt8, telling progress (if not nil) of each layer measured.
func planInt8(arch engine.Architecture, p engine.Params, progress func(done, total int)) (Plan, error) {
	shapes := weights.LayerNames(arch)
	plan := Plan{DTypes: make([]weights.DType, len(shapes)), Names: shapes, Sensitivity: make([]float64, len(shapes))}
	for i := range shapes {
		plan.DTypes[i] = weights.Int8
	}

	small := arch
	small.Input.Crop = 128
	sweep, err := newCalibration(small, p, 6)
	if err != nil {
		return Plan{}, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises the calls of progress
	measured := 0
	jobs := make(chan int)
	errs := make([]error, len(shapes))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				dtypes := slices.Repeat([]weights.DType{weights.Float32}, len(shapes))
				dtypes[i] = weights.Int8
				var cos float64
				cos, errs[i] = sweep.agreement(p, dtypes)
				plan.Sensitivity[i] = 1 - cos
				if progress != nil {
					mu.Lock()
					measured++
					progress(measured, len(shapes))
					mu.Unlock()
				}
			}
		})
	}
	for i := range shapes {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := firstError(errs); err != nil {
		return Plan{}, err
	}

	full, err := newCalibration(arch, p, 6)
	if err != nil {
		return Plan{}, err
	}
	order := make([]int, len(shapes)) // most sensitive first
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return -cmpFloat(plan.Sensitivity[a], plan.Sensitivity[b])
	})
	for _, i := range order {
		if plan.Sensitivity[i] > SensitiveLayer {
			plan.DTypes[i] = weights.Float16
		}
	}
	for _, next := range order {
		cos, err := full.agreement(p, plan.DTypes)
		if err != nil {
			return Plan{}, err
		}
		plan.Cosine = cos
		if cos >= MinCosine {
			return plan, nil
		}
		plan.DTypes[next] = weights.Float16
	}
	plan.Cosine, err = full.agreement(p, plan.DTypes)
	return plan, err
}

// calibration is a float network's logits on a few synthetic images.
type calibration struct {
	arch   engine.Architecture
	inputs [][]float32
	logits [][]float32
}

func newCalibration(arch engine.Architecture, p engine.Params, n int) (*calibration, error) {
	net, err := engine.New(arch, p)
	if err != nil {
		return nil, err
	}
	c := &calibration{arch: arch}
	rng := rand.New(rand.NewPCG(20180101, 1707))
	for range n {
		img := syntheticImage(rng, arch.Input.Crop)
		in := make([]float32, 3*arch.Input.Crop*arch.Input.Crop)
		if err := arch.Input.FromRGBA(in, img.Pix, img.Stride); err != nil {
			return nil, err
		}
		logits, err := net.Forward(in)
		if err != nil {
			return nil, err
		}
		c.inputs = append(c.inputs, in)
		c.logits = append(c.logits, slices.Clone(logits))
	}
	return c, nil
}

// agreement is the worst cosine similarity, over the calibration images,
// between the float logits and those of p stored with dtypes.
func (c *calibration) agreement(p engine.Params, dtypes []weights.DType) (float64, error) {
	qnet, err := engine.New(c.arch, weights.AsStored(c.arch, p, dtypes))
	if err != nil {
		return 0, err
	}
	worst := 1.0
	for i, in := range c.inputs {
		logits, err := qnet.Forward(in)
		if err != nil {
			return 0, err
		}
		worst = min(worst, Cosine(logits, c.logits[i]))
	}
	return worst, nil
}

// Cosine is the cosine similarity of two vectors.
func Cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// syntheticImage draws a size x size image with some of the statistics of
// photos: a smooth colour gradient, a few soft-edged shapes, fine texture.
func syntheticImage(rng *rand.Rand, size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	randColor := func() [3]float64 { return [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255} }
	c0, c1 := randColor(), randColor()
	type blob struct {
		x, y, rx, ry float64
		c            [3]float64
	}
	var blobs []blob
	for range 3 + rng.IntN(5) {
		blobs = append(blobs, blob{rng.Float64(), rng.Float64(), 0.05 + 0.3*rng.Float64(), 0.05 + 0.3*rng.Float64(), randColor()})
	}
	fx, fy, phase := 2+10*rng.Float64(), 2+10*rng.Float64(), 2*math.Pi*rng.Float64()
	for y := range size {
		for x := range size {
			u, v := float64(x)/float64(size), float64(y)/float64(size)
			var px [3]float64
			for ch := range 3 {
				px[ch] = c0[ch]*(1-u) + c1[ch]*u
			}
			for _, b := range blobs {
				d := math.Hypot((u-b.x)/b.rx, (v-b.y)/b.ry)
				alpha := 1 / (1 + math.Exp(8*(d-1))) // soft edge
				for ch := range 3 {
					px[ch] = px[ch]*(1-alpha) + b.c[ch]*alpha
				}
			}
			texture := 20*math.Sin(fx*u*2*math.Pi+fy*v*2*math.Pi+phase) + 10*rng.NormFloat64()
			img.SetRGBA(x, y, color.RGBA{clampByte(px[0] + texture), clampByte(px[1] + texture), clampByte(px[2] + texture), 255})
		}
	}
	return img
}

func clampByte(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
	}
	return nil
}
