package engine

// Role says which of the network's five kinds of layer a conv is.
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

// convShapes lists every conv in network order: stem, each unit's
// compress, spatial and expand, classifier.
func (a Architecture) convShapes() []ConvShape {
	list := []ConvShape{a.StemConv()}
	for _, u := range a.Units() {
		list = append(list, u.Compress(), u.Spatial(), u.Expand())
	}
	return append(list, a.Classifier())
}

// MACs is the network's multiply-accumulate count for one image: every conv
// and the classifier, as papers and torchsummary-style tools count them.
func (a Architecture) MACs() int64 {
	var total int64
	for _, c := range a.convShapes() {
		total += c.MACs()
	}
	return total
}
