package engine

import (
	"fmt"
)

// Network is a ShuffleNet V1 ready to run: its weights in the runtime
// layout and every activation buffer, allocated once by New. Forward
// allocates nothing. A Network is not safe for concurrent use; Clone gives
// another one that shares the (read-only) weights.
type Network struct {
	arch       Architecture
	stem       conv3x3
	stemPool   pool3x3s2
	stages     [3][]unit
	globalPool globalPool
	classifier classifier
	buf        buffers
}

// unit is one ShuffleNet unit: compress (1x1 group conv + ReLU, written
// already shuffled), spatial (3x3, carries the stride), expand (1x1 group
// conv), then either the residual add or the concat with an average-pooled
// shortcut, and a ReLU.
type unit struct {
	shape                     UnitShape
	compress, expand          pointwise
	spatial                   conv3x3
	shortcut                  pool3x3s2 // stride 2: the average pool of the concat's other half
	poolPlanes, mainPlanesOff int       // stride 2: where each half of the concat starts, in planes
}

// buffers are the activations, sized for the largest layer. Every map
// buffer has room past its end (and compressed, which the 3x3 convs read
// around, room before it too) for the vector kernels; see mapRoom.
type buffers struct {
	input      int       // expected input length
	stemOut    []float32 // conv1 output, before the max pool
	act        [2][]float32
	compressed paddedMaps // a unit's compress output
	spatial    []float32  // a unit's 3x3 output
	conv       convScratch
	features   []float32 // the last stage's output (points into act)
	unshuffled []float32 // ForwardObserved only: a unit's compress output in its own order
	pooled     []float32
	logits     []float32
}

// New builds a network from parameters in the runtime layout (see Fold).
// The network keeps p's slices; the caller must not change them afterwards.
func New(a Architecture, p Params) (*Network, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := p.Check(a); err != nil {
		return nil, err
	}
	return build(a, p), nil
}

// build makes the network of a checked architecture and its parameters.
func build(a Architecture, p Params) *Network {
	n := &Network{arch: a}
	stemEp := linear
	if a.StemReLU {
		stemEp = relu
	}
	stem := a.StemConv()
	n.stem = conv3x3{in: stem.In, out: stem.Out, groups: 1, stride: 2, inSize: stem.InSize, outSize: stem.OutSize,
		weight: p.Stem.Weight, bias: p.Stem.Bias, ep: stemEp}
	n.stem.simd = newConv3x3SIMD(&n.stem)
	n.stemPool = newPool3x3s2(stem.Out, stem.OutSize, false)
	for i, s := range a.Units() {
		n.stages[s.Stage-2] = append(n.stages[s.Stage-2], newUnit(a, s, p.Units[i]))
	}
	n.globalPool = newGlobalPool(a.FeatureChannels(), a.FeatureSize()*a.FeatureSize())
	n.classifier = newClassifier(a.FeatureChannels(), a.Classes, p.Classifier.Weight, p.Classifier.Bias)
	n.buf = newBuffers(a, n.phaseLen())
	return n
}

func newUnit(a Architecture, s UnitShape, p UnitParams) unit {
	in, out := s.InSize*s.InSize, s.OutSize()*s.OutSize()
	u := unit{
		shape: s,
		compress: pointwise{in: s.In, out: s.Mid, groups: s.CompressGroups, hw: in,
			weight: p.Compress.Weight, bias: p.Compress.Bias, planes: compressPlanes(a, s.Mid), ep: relu},
		spatial: conv3x3{in: s.Mid, out: s.Mid, groups: s.SpatialGroups, stride: s.Stride,
			inSize: s.InSize, outSize: s.OutSize(), weight: p.Spatial.Weight, bias: p.Spatial.Bias, ep: linear},
		expand: pointwise{in: s.Mid, out: s.MainOut, groups: s.ExpandGroups, hw: out,
			weight: p.Expand.Weight, bias: p.Expand.Bias, ep: addReLU},
	}
	if s.Stride == 2 {
		u.expand.ep = relu
		u.shortcut = newPool3x3s2(s.In, s.InSize, true)
		if a.PoolFirst {
			u.poolPlanes, u.mainPlanesOff = 0, s.In
		} else {
			u.poolPlanes, u.mainPlanesOff = s.MainOut, 0
		}
	}
	u.compress.simd = newPointwiseSIMD(&u.compress)
	u.spatial.simd = newConv3x3SIMD(&u.spatial)
	u.expand.simd = newPointwiseSIMD(&u.expand)
	return u
}

// newBuffers sizes every buffer for a's largest layer, with phases floats
// of phase scratch for the 3x3 convs' kernels (see phaseLen).
func newBuffers(a Architecture, phases int) buffers {
	stem := a.StemConv()
	maxAct := stem.Out * (stem.OutSize / 2) * (stem.OutSize / 2)
	var maxCompressed, maxSpatial int
	for _, u := range a.Units() {
		in, out := u.InSize*u.InSize, u.OutSize()*u.OutSize()
		maxAct = max(maxAct, u.In*in, u.Out*out)
		maxCompressed = max(maxCompressed, u.Mid*in)
		maxSpatial = max(maxSpatial, u.Mid*out)
	}
	room := mapRoom(a)
	b := buffers{
		input:      3 * a.Input.Crop * a.Input.Crop,
		stemOut:    newMaps(stem.Out*stem.OutSize*stem.OutSize, room),
		act:        [2][]float32{newMaps(maxAct, room), newMaps(maxAct, room)},
		compressed: newPaddedMaps(maxCompressed, room),
		spatial:    newMaps(maxSpatial, room),
		conv:       convScratch{zeros: make([]float32, a.Input.Crop)},
		pooled:     make([]float32, a.FeatureChannels()),
		logits:     newMaps(a.Classes, room),
	}
	if phases > 0 {
		b.conv.phases = newPaddedMaps(phases, room)
	}
	return b
}

// Architecture describes the network.
func (n *Network) Architecture() Architecture { return n.arch }

// Clone returns a network that shares n's weights and has its own buffers,
// so that several goroutines can each run one.
func (n *Network) Clone() *Network {
	c := *n
	c.buf = newBuffers(n.arch, n.phaseLen())
	return &c
}

// Forward runs the network on one image: a 3xSxS tensor (S = InputSize) in
// the model's input convention (see InputConvention.Tensor). It returns the
// logits, which belong to the network and are overwritten by the next call.
func (n *Network) Forward(input []float32) ([]float32, error) {
	return n.forward(input, nil)
}

// forward is Forward, reporting to observe (if not nil) the maps it makes
// on the way (see ForwardObserved).
func (n *Network) forward(input []float32, observe Observer) ([]float32, error) {
	b := &n.buf
	if len(input) != b.input {
		return nil, fmt.Errorf("forward: input has %d values, want %d (3x%dx%d)", len(input), b.input, n.arch.Input.Crop, n.arch.Input.Crop)
	}

	// Stem: conv1 3x3/2 (batch norm folded; ReLU unless seed), max pool 3x3/2.
	n.stem.run(b.stemOut, unpadded(input), &b.conv)
	n.stemPool.run(b.act[0], b.stemOut)
	observe.report(StageOutput, 1, 0, n.stem.out, n.stem.outSize/2, b.act[0])

	// Stages 2-4: a stride-2 unit, then stride-1 units. Activations ping-pong.
	x, y := b.act[0], b.act[1]
	for _, stage := range n.stages {
		for i := range stage {
			stage[i].forward(y, x, b, observe)
			x, y = y, x
		}
		last := stage[len(stage)-1].shape
		observe.report(StageOutput, last.Stage, last.Index, last.Out, last.OutSize(), x)
	}
	b.features = x

	// Global average pool, classifier.
	n.globalPool.run(b.pooled, x)
	n.classifier.run(b.logits, b.pooled)
	return b.logits, nil
}

// Features returns the pooled features of the last Forward: the global
// average of each of the last stage's FeatureChannels maps, the input of
// the classifier. A head trained on a frozen network (engine/head) reads
// them. They belong to the network and are overwritten by the next pass.
func (n *Network) Features() ([]float32, error) {
	if n.buf.features == nil {
		return nil, fmt.Errorf("features: no forward pass yet")
	}
	return n.buf.pooled, nil
}

// forward runs one unit from in to out.
func (u *unit) forward(out, in []float32, b *buffers, observe Observer) {
	s := u.shape
	u.compress.run(b.compressed.maps, in, nil)
	u.spatial.run(b.spatial, b.compressed, &b.conv)
	u.reportSteps(observe, b)
	if s.Stride == 1 {
		u.expand.run(out, b.spatial, in) // relu(x + main)
	} else {
		// relu(cat(avgpool(x), main)) in the family's order, each half written in place.
		hw := s.OutSize() * s.OutSize()
		u.shortcut.run(out[u.poolPlanes*hw:], in)
		u.expand.run(out[u.mainPlanesOff*hw:], b.spatial, nil)
	}
	observe.report(UnitOutput, s.Stage, s.Index, s.Out, s.OutSize(), out)
}

// ClassActivationMap writes into dst (FeatureSize² values, row-major) the
// class activation map of class for the last Forward: the last stage's
// feature map weighted by the classifier's row for that class. Large values
// mark where the network saw evidence for the class.
func (n *Network) ClassActivationMap(class int, dst []float32) error {
	c, hw := n.classifier, n.arch.FeatureSize()*n.arch.FeatureSize()
	if class < 0 || class >= c.out {
		return fmt.Errorf("class activation map: class %d out of range [0, %d)", class, c.out)
	}
	if len(dst) != hw {
		return fmt.Errorf("class activation map: dst has %d values, want %d", len(dst), hw)
	}
	if n.buf.features == nil {
		return fmt.Errorf("class activation map: no forward pass yet")
	}
	fill(dst, 0)
	for ch, w := range c.weight[class*c.in : (class+1)*c.in] {
		for p, v := range n.buf.features[ch*hw : (ch+1)*hw] {
			dst[p] += w * v
		}
	}
	return nil
}
