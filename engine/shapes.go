package engine

import "iter"

// Role says which of the network's five kinds of layer a conv is. Its
// values also name the convs' tensors in weights files (see package
// weights), so they must not change.
type Role string

const (
	RoleStem       Role = "stem"
	RoleCompress   Role = "compress"
	RoleSpatial    Role = "spatial"
	RoleExpand     Role = "expand"
	RoleClassifier Role = "classifier"
)

// ConvShape is the geometry of one convolution (or of the classifier, as a
// 1x1 conv on a 1x1 map). Weights are stored [Out][In/Groups][Kernel][Kernel].
type ConvShape struct {
	Name            string
	Role            Role
	In, Out, Groups int
	Kernel, Stride  int
	InSize, OutSize int // square feature maps
}

// WeightLen is the number of weights.
func (c ConvShape) WeightLen() int { return c.Out * (c.In / c.Groups) * c.Kernel * c.Kernel }

// MACs is the number of multiply-accumulates for one image.
func (c ConvShape) MACs() int64 { return int64(c.WeightLen()) * int64(c.OutSize) * int64(c.OutSize) }

// StemConv is conv1: 3x3, stride 2, padding 1, dense.
func (a Architecture) StemConv() ConvShape {
	return ConvShape{Name: "stem", Role: RoleStem, In: 3, Out: a.StemChannels, Groups: 1, Kernel: 3, Stride: 2,
		InSize: a.Input.Crop, OutSize: a.StemSize()}
}

// Compress is a unit's first 1x1 conv (in -> mid).
func (u UnitShape) Compress() ConvShape {
	return ConvShape{Name: u.Name + ".compress", Role: RoleCompress, In: u.In, Out: u.Mid, Groups: u.CompressGroups, Kernel: 1, Stride: 1,
		InSize: u.InSize, OutSize: u.InSize}
}

// Spatial is a unit's 3x3 conv (mid -> mid), depthwise or grouped, carrying the unit's stride.
func (u UnitShape) Spatial() ConvShape {
	return ConvShape{Name: u.Name + ".spatial", Role: RoleSpatial, In: u.Mid, Out: u.Mid, Groups: u.SpatialGroups, Kernel: 3, Stride: u.Stride,
		InSize: u.InSize, OutSize: u.OutSize()}
}

// Expand is a unit's second 1x1 conv (mid -> main branch output).
func (u UnitShape) Expand() ConvShape {
	return ConvShape{Name: u.Name + ".expand", Role: RoleExpand, In: u.Mid, Out: u.MainOut, Groups: u.ExpandGroups, Kernel: 1, Stride: 1,
		InSize: u.OutSize(), OutSize: u.OutSize()}
}

// Classifier is the final Linear layer, seen as a 1x1 conv on the pooled features.
func (a Architecture) Classifier() ConvShape {
	return ConvShape{Name: "classifier", Role: RoleClassifier, In: a.FeatureChannels(), Out: a.Classes, Groups: 1, Kernel: 1, Stride: 1,
		InSize: 1, OutSize: 1}
}

// Slot is one conv's place in the network: which conv it is, where it
// comes in network order, and which unit holds it. Params.Conv and
// Trained.Layer find a slot's parameters; Architecture.Convs yields every
// slot with its shape.
type Slot struct {
	// Index is the conv's position in network order: 0 for the stem, then
	// three per unit, the classifier last. Per-conv lists (a weights file's
	// dtypes, for one) are in this order.
	Index int
	// Unit is the index of the conv's unit in Architecture.Units,
	// Params.Units and Trained.Units, or -1 for the stem and the classifier.
	Unit int
	// Role is which of the five kinds of conv it is.
	Role Role
}

// Convs yields every conv of the network in network order with its shape:
// the stem; each unit's compress, spatial and expand; the classifier. It is
// the one walk of the layers: checking Params and Trained, counting MACs and
// laying out a weights file's tensors and dtypes all use it, so they cannot
// disagree on the order.
func (a Architecture) Convs() iter.Seq2[Slot, ConvShape] {
	return func(yield func(Slot, ConvShape) bool) {
		units := a.Units()
		for s := range slots(len(units)) {
			var shape ConvShape
			switch s.Role {
			case RoleStem:
				shape = a.StemConv()
			case RoleCompress:
				shape = units[s.Unit].Compress()
			case RoleSpatial:
				shape = units[s.Unit].Spatial()
			case RoleExpand:
				shape = units[s.Unit].Expand()
			case RoleClassifier:
				shape = a.Classifier()
			}
			if !yield(s, shape) {
				return
			}
		}
	}
}

// slots yields the slots of a network of n units in network order. Convs
// gives them their shapes; Params.Count and Trained.Count, which have no
// Architecture, walk them alone.
func slots(n int) iter.Seq[Slot] {
	return func(yield func(Slot) bool) {
		if !yield(Slot{Index: 0, Unit: -1, Role: RoleStem}) {
			return
		}
		for u := range n {
			for k, r := range [...]Role{RoleCompress, RoleSpatial, RoleExpand} {
				if !yield(Slot{Index: 1 + 3*u + k, Unit: u, Role: r}) {
					return
				}
			}
		}
		yield(Slot{Index: 1 + 3*n, Unit: -1, Role: RoleClassifier})
	}
}

// MACs is the network's multiply-accumulate count for one image: every conv
// and the classifier, as papers and torchsummary-style tools count them.
func (a Architecture) MACs() int64 {
	var total int64
	for _, c := range a.Convs() {
		total += c.MACs()
	}
	return total
}
