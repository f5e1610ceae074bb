package engine

import (
	"fmt"
	"math"
)

// BatchNorm holds an eval-mode batch norm: y = (x-Mean)/sqrt(Var+Eps)*Weight + Bias.
type BatchNorm struct {
	Weight, Bias, Mean, Var []float32
	Eps                     float32
}

// Layer is a conv or linear layer as it was trained: its weights, an
// optional bias, and an optional batch norm that follows it.
type Layer struct {
	Weight []float32
	Bias   []float32  // nil when the layer has none
	Norm   *BatchNorm // nil when no batch norm follows
}

// TrainedUnit holds one unit's three convs as trained.
type TrainedUnit struct {
	Compress, Spatial, Expand Layer
}

// Trained holds a network's parameters as a checkpoint stores them: batch
// norms separate, channel shuffles still in the graph. Fold turns it into
// Params.
type Trained struct {
	Stem       Layer
	Units      []TrainedUnit
	Classifier Layer
}

// Conv is a layer in the engine's runtime layout: y = Weight*x + Bias, with
// any batch norm already folded in. Bias always has one value per output.
type Conv struct {
	Weight, Bias []float32
}

// UnitParams holds one unit's convs in the runtime layout.
type UnitParams struct {
	Compress, Spatial, Expand Conv
}

// Params holds a network's parameters in the runtime layout: batch norms
// folded into the convs, and channel shuffles folded as described by
// Fold. This is what weights files store and what New runs.
type Params struct {
	Stem       Conv
	Units      []UnitParams
	Classifier Conv
}

// Count is the number of parameters (weights and biases).
func (p *Params) Count() int {
	n := 0
	for s := range slots(len(p.Units)) {
		c := p.Conv(s)
		n += len(c.Weight) + len(c.Bias)
	}
	return n
}

// Conv returns the conv at slot s, one of Architecture.Convs' slots for the
// architecture p is built for. It panics if p has no unit s.Unit.
func (p *Params) Conv(s Slot) *Conv {
	switch s.Role {
	case RoleStem:
		return &p.Stem
	case RoleCompress:
		return &p.Units[s.Unit].Compress
	case RoleSpatial:
		return &p.Units[s.Unit].Spatial
	case RoleExpand:
		return &p.Units[s.Unit].Expand
	case RoleClassifier:
		return &p.Classifier
	}
	panic("engine: no conv with role " + string(s.Role))
}

// Check reports the first tensor whose length does not match a, or whose
// values are not all finite.
func (p *Params) Check(a Architecture) error {
	if units := len(a.Units()); len(p.Units) != units {
		return fmt.Errorf("params have %d units, architecture %s has %d", len(p.Units), a.Name(), units)
	}
	for s, shape := range a.Convs() {
		if err := checkConv(shape, *p.Conv(s)); err != nil {
			return err
		}
	}
	return nil
}

func checkConv(s ConvShape, c Conv) error {
	if len(c.Weight) != s.WeightLen() {
		return fmt.Errorf("%s: %d weights, want %d (%d outputs x %d inputs x %dx%d)",
			s.Name, len(c.Weight), s.WeightLen(), s.Out, s.In/s.Groups, s.Kernel, s.Kernel)
	}
	if len(c.Bias) != s.Out {
		return fmt.Errorf("%s: %d biases, want %d", s.Name, len(c.Bias), s.Out)
	}
	if err := checkFinite(s.Name+" weight", c.Weight); err != nil {
		return err
	}
	return checkFinite(s.Name+" bias", c.Bias)
}

func checkFinite(name string, v []float32) error {
	if i := NonFinite(v); i >= 0 {
		return fmt.Errorf("%s: value %d is %g", name, i, v[i])
	}
	return nil
}

// NonFinite returns the index of the first infinite or NaN value of v, or
// -1 if there is none. A float32 is one when its exponent bits are all
// ones; adding one to the exponent then carries into the top bit. Testing
// 8 values at once that way, with one branch, made loading a model in the
// browser faster (Go's WebAssembly pays a jump table for every branch, and
// the first load runs before V8 optimizes anything).
func NonFinite(v []float32) int {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		b := v[i : i+8 : i+8]
		var bad uint32
		for _, x := range b {
			bad |= math.Float32bits(x)&0x7f800000 + 0x00800000
		}
		if bad&0x80000000 != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if math.Float32bits(v[i])&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// Count is the number of trainable parameters (batch norm statistics
// excluded, as torchsummary and the papers count them).
func (t *Trained) Count() int {
	n := 0
	for s := range slots(len(t.Units)) {
		l := t.Layer(s)
		n += len(l.Weight) + len(l.Bias)
		if l.Norm != nil {
			n += len(l.Norm.Weight) + len(l.Norm.Bias)
		}
	}
	return n
}

// Layer returns the layer at slot s, one of Architecture.Convs' slots for
// the architecture t was trained as. It panics if t has no unit s.Unit.
func (t *Trained) Layer(s Slot) *Layer {
	switch s.Role {
	case RoleStem:
		return &t.Stem
	case RoleCompress:
		return &t.Units[s.Unit].Compress
	case RoleSpatial:
		return &t.Units[s.Unit].Spatial
	case RoleExpand:
		return &t.Units[s.Unit].Expand
	case RoleClassifier:
		return &t.Classifier
	}
	panic("engine: no layer with role " + string(s.Role))
}

// Check reports the first layer that does not fit a: a wrong length, a
// missing or unexpected bias or batch norm, or a non-finite value.
func (t *Trained) Check(a Architecture) error {
	if units := len(a.Units()); len(t.Units) != units {
		return fmt.Errorf("checkpoint has %d units, architecture %s has %d", len(t.Units), a.Name(), units)
	}
	for s, shape := range a.Convs() {
		if err := checkLayer(a, shape, *t.Layer(s)); err != nil {
			return err
		}
	}
	return nil
}

func checkLayer(a Architecture, s ConvShape, l Layer) error {
	if len(l.Weight) != s.WeightLen() {
		return fmt.Errorf("%s: %d weights, want %d (%d outputs x %d inputs x %dx%d)",
			s.Name, len(l.Weight), s.WeightLen(), s.Out, s.In/s.Groups, s.Kernel, s.Kernel)
	}
	if err := checkFinite(s.Name+" weight", l.Weight); err != nil {
		return err
	}
	wantBias, wantNorm := a.ConvBias, true
	switch s.Role {
	case RoleStem:
		wantNorm = a.StemBatchNorm
	case RoleClassifier:
		wantBias, wantNorm = a.ClassifierBias, false
	}
	if (l.Bias != nil) != wantBias {
		return fmt.Errorf("%s: has bias %t, the %s family's has %t", s.Name, l.Bias != nil, a.Family, wantBias)
	}
	if l.Bias != nil {
		if len(l.Bias) != s.Out {
			return fmt.Errorf("%s: %d biases, want %d", s.Name, len(l.Bias), s.Out)
		}
		if err := checkFinite(s.Name+" bias", l.Bias); err != nil {
			return err
		}
	}
	if (l.Norm != nil) != wantNorm {
		return fmt.Errorf("%s: has batch norm %t, the %s family's has %t", s.Name, l.Norm != nil, a.Family, wantNorm)
	}
	if n := l.Norm; n != nil {
		for _, v := range []struct {
			what string
			vals []float32
		}{{"weight", n.Weight}, {"bias", n.Bias}, {"running mean", n.Mean}, {"running var", n.Var}} {
			if len(v.vals) != s.Out {
				return fmt.Errorf("%s: batch norm %s has %d values, want %d", s.Name, v.what, len(v.vals), s.Out)
			}
			if err := checkFinite(s.Name+" batch norm "+v.what, v.vals); err != nil {
				return err
			}
		}
		for i, v := range n.Var {
			if v < 0 {
				return fmt.Errorf("%s: batch norm running var %d is negative (%g)", s.Name, i, v)
			}
		}
		if !(n.Eps > 0) {
			return fmt.Errorf("%s: batch norm eps %g must be positive", s.Name, n.Eps)
		}
	}
	return nil
}
