package engine

import (
	"fmt"
	"strconv"
)

// Family names a published ShuffleNet V1 code base. Families differ in small,
// silent ways (where the channel shuffle sits, which permutation it is, the
// order of the stride-2 concat, biases, input scaling); an Architecture
// records each of those facts, so the forward pass has one code path.
type Family string

const (
	// Seed is the project's reference PyTorch code: a stem conv with bias and
	// no BN or ReLU, grouped (not depthwise) 3x3 convs, biases everywhere.
	Seed Family = "seed"
	// Megvii is megvii-model/ShuffleNet-Series, the official weights.
	Megvii Family = "megvii"
	// Pytorchcv is osmr/imgclsmob (pytorchcv), weights converted from Gluon.
	Pytorchcv Family = "pytorchcv"
	// MMPretrain is open-mmlab/mmpretrain (formerly mmclassification).
	MMPretrain Family = "mmpretrain"
)

// Families lists every family the engine can build, in a stable order.
var Families = []Family{Seed, Megvii, Pytorchcv, MMPretrain}

// Shuffle is a channel-shuffle permutation. Both kinds reshape C channels
// into a g x C/g grid and transpose it, but read the grid in opposite orders.
type Shuffle string

const (
	// ShuffleNone: no shuffle (groups = 1).
	ShuffleNone Shuffle = "none"
	// ShuffleStandard is the paper's: view(g, C/g), transpose, flatten, so
	// out[j] = in[(j mod g)*(C/g) + j/g].
	ShuffleStandard Shuffle = "standard"
	// ShuffleMegvii is Megvii's reshape(C/g, g).permute, the inverse of the
	// standard one: out[j] = in[(j mod (C/g))*g + j/(C/g)].
	ShuffleMegvii Shuffle = "megvii"
)

// ShufflePosition says where in a unit the shuffle happens.
type ShufflePosition string

const (
	// AfterCompress: after the first 1x1 conv (+BN+ReLU), as in the paper.
	AfterCompress ShufflePosition = "after_compress"
	// AfterSpatial: after the 3x3 conv (+BN), as Megvii and mmpretrain do.
	AfterSpatial ShufflePosition = "after_spatial"
)

// InputConvention says how a model expects its 3x224x224 input:
// value = (pixel*Scale - Mean[c]) / Std[c], pixel in 0..255, with channels in
// BGR order when BGR is set. Mean and Std are in the model's channel order.
type InputConvention struct {
	BGR          bool       `json:"bgr"`
	Scale        float32    `json:"scale"`
	Mean         [3]float32 `json:"mean"`
	Std          [3]float32 `json:"std"`
	ResizeShort  int        `json:"resize_short"`
	Crop         int        `json:"crop"`
	ResizeFilter string     `json:"resize_filter"`
}

var (
	// imagenetRGB01 is torchvision's ToTensor + Normalize(ImageNet mean/std).
	imagenetRGB01 = InputConvention{
		Scale: 1.0 / 255, Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225},
		ResizeShort: 256, Crop: 224, ResizeFilter: "bilinear-antialias",
	}
	// bgr255 is Megvii's ToBGRTensor: BGR, 0..255, no normalisation.
	bgr255 = InputConvention{
		BGR: true, Scale: 1, Std: [3]float32{1, 1, 1},
		ResizeShort: 256, Crop: 224, ResizeFilter: "bilinear",
	}
	// imagenetRGB255 is mmpretrain's data_preprocessor: ImageNet mean/std on 0..255.
	imagenetRGB255 = InputConvention{
		Scale: 1, Mean: [3]float32{123.675, 116.28, 103.53}, Std: [3]float32{58.395, 57.12, 57.375},
		ResizeShort: 256, Crop: 224, ResizeFilter: "bilinear-antialias",
	}
)

// Architecture is the whole description of one ShuffleNet V1 network: enough
// to allocate it, check a checkpoint's shapes against it, count its MACs and
// feed it an image. The zero value is not usable; build one with
// SeedArchitecture, MegviiArchitecture, PytorchcvArchitecture or
// MMPretrainArchitecture, or fill it from a weights file and call Validate.
type Architecture struct {
	Family Family `json:"family"`
	// Width is the width multiplier against the paper's 1x channels (0.5,
	// 1, ...), or 0 where the paper has no such group count. For names only.
	Width  float64 `json:"width"`
	Groups int     `json:"groups"`

	StemChannels  int    `json:"stem_channels"`
	StageChannels [3]int `json:"stage_channels"`
	StageUnits    [3]int `json:"stage_units"`
	Classes       int    `json:"classes"`

	// StemBatchNorm and StemReLU: conv1 is followed by BN and ReLU (all but the seed).
	StemBatchNorm bool `json:"stem_batchnorm"`
	StemReLU      bool `json:"stem_relu"`
	// ConvBias: every conv has its own bias (the seed), besides any BN.
	ConvBias bool `json:"conv_bias"`
	// ClassifierBias: the final Linear has a bias (all but Megvii).
	ClassifierBias bool `json:"classifier_bias"`
	// Depthwise: the 3x3 conv has one group per channel. When false it has
	// Groups groups (the seed's quirk).
	Depthwise bool `json:"depthwise"`
	// GroupedFirstCompress: the first 1x1 conv of stage 2 is grouped (the
	// seed); the published models make it dense because the stem is narrow.
	GroupedFirstCompress bool `json:"grouped_first_compress"`

	Shuffle         Shuffle         `json:"shuffle"`
	ShufflePosition ShufflePosition `json:"shuffle_position"`
	// PoolFirst: a stride-2 unit concatenates [avgpool(x), main]; otherwise [main, avgpool(x)].
	PoolFirst bool `json:"pool_first"`

	Input InputConvention `json:"input"`
}

// paperStageChannels are the paper's 1x stage widths per group count.
var paperStageChannels = map[int][3]int{
	1: {144, 288, 576},
	2: {200, 400, 800},
	3: {240, 480, 960},
	4: {272, 544, 1088},
	8: {384, 768, 1536},
}

// seedStageChannels are the seed code's widths: the paper's, plus a groups=5
// entry (it reuses the g8 widths) that cannot be built because 24 stem
// channels do not split into 5 groups. Validate says so.
var seedStageChannels = map[int][3]int{
	1: paperStageChannels[1], 2: paperStageChannels[2], 3: paperStageChannels[3],
	4: paperStageChannels[4], 5: paperStageChannels[8], 8: paperStageChannels[8],
}

// NewArchitecture returns the family's architecture with the given groups
// and widths (stem channels, then the output channels of stages 2, 3 and 4).
// Every family fact that is not a width comes from the family.
func NewArchitecture(f Family, groups, stem int, stages [3]int) (Architecture, error) {
	a := Architecture{
		Family: f, Groups: groups, StemChannels: stem, StageChannels: stages,
		StageUnits: [3]int{4, 8, 4}, Classes: 1000,
	}
	if base, ok := seedStageChannels[groups]; ok {
		a.Width = float64(stages[2]) / float64(base[2])
	}
	shuffle := ShuffleStandard
	switch f {
	case Seed:
		// conv1 has a bias and no BN or ReLU; every conv has a bias; the 3x3
		// conv is grouped, not depthwise; even the first 1x1 conv is grouped.
		a.ConvBias, a.ClassifierBias, a.GroupedFirstCompress = true, true, true
		a.ShufflePosition, a.PoolFirst = AfterCompress, true
		a.Input = imagenetRGB01
	case Megvii:
		a.StemBatchNorm, a.StemReLU, a.Depthwise = true, true, true
		shuffle, a.ShufflePosition, a.PoolFirst = ShuffleMegvii, AfterSpatial, true
		a.Input = bgr255
	case Pytorchcv:
		a.StemBatchNorm, a.StemReLU, a.Depthwise, a.ClassifierBias = true, true, true, true
		a.ShufflePosition, a.PoolFirst = AfterCompress, false
		a.Input = imagenetRGB01
	case MMPretrain:
		a.StemBatchNorm, a.StemReLU, a.Depthwise, a.ClassifierBias = true, true, true, true
		a.ShufflePosition, a.PoolFirst = AfterSpatial, true
		a.Input = imagenetRGB255
	default:
		return Architecture{}, fmt.Errorf("unknown family %q (known: seed, megvii, pytorchcv, mmpretrain)", f)
	}
	a.Shuffle = ShuffleNone
	if groups > 1 {
		a.Shuffle = shuffle
	}
	return a, a.Validate()
}

// SeedArchitecture is the seed's PyTorch model with g groups at width 1x.
func SeedArchitecture(groups int) (Architecture, error) {
	channels, ok := seedStageChannels[groups]
	if !ok {
		return Architecture{}, fmt.Errorf("seed: no stage widths for groups=%d (known: 1, 2, 3, 4, 8)", groups)
	}
	return NewArchitecture(Seed, groups, 24, channels)
}

// megviiChannels is Megvii's stage_out_channels table [stem, s2, s3, s4] by groups and width.
var megviiChannels = map[int]map[float64][4]int{
	3: {0.5: {12, 120, 240, 480}, 1: {24, 240, 480, 960}, 1.5: {24, 360, 720, 1440}, 2: {48, 480, 960, 1920}},
	8: {0.5: {16, 192, 384, 768}, 1: {24, 384, 768, 1536}, 1.5: {24, 576, 1152, 2304}, 2: {48, 768, 1536, 3072}},
}

// MegviiArchitecture is megvii-model/ShuffleNet-Series ShuffleNetV1 with
// groups 3 or 8 and width 0.5, 1, 1.5 or 2.
func MegviiArchitecture(groups int, width float64) (Architecture, error) {
	c, ok := megviiChannels[groups][width]
	if !ok {
		return Architecture{}, fmt.Errorf("megvii: no model with groups=%d width=%gx (groups 3 or 8; widths 0.5x, 1.0x, 1.5x, 2.0x)", groups, width)
	}
	return NewArchitecture(Megvii, groups, c[0], [3]int{c[1], c[2], c[3]})
}

// PytorchcvArchitecture is pytorchcv's shufflenet_g{groups}_w{width}: the
// paper's channels scaled by width, truncated (int(c*w)), stem included.
func PytorchcvArchitecture(groups int, width float64) (Architecture, error) {
	base, ok := paperStageChannels[groups]
	if !ok || width <= 0 || width > 4 {
		return Architecture{}, fmt.Errorf("pytorchcv: no model with groups=%d width=%g", groups, width)
	}
	scale := func(c int) int { return int(float64(c) * width) }
	return NewArchitecture(Pytorchcv, groups, scale(24), [3]int{scale(base[0]), scale(base[1]), scale(base[2])})
}

// MMPretrainArchitecture is mmpretrain's ShuffleNetV1 backbone with a
// LinearClsHead at width 1x (the only published width).
func MMPretrainArchitecture(groups int) (Architecture, error) {
	channels, ok := paperStageChannels[groups]
	if !ok {
		return Architecture{}, fmt.Errorf("mmpretrain: no model with groups=%d (1, 2, 3, 4 or 8)", groups)
	}
	return NewArchitecture(MMPretrain, groups, 24, channels)
}

// Name is a short human name such as "megvii g3 0.5x".
func (a Architecture) Name() string {
	if a.Width == 0 {
		return fmt.Sprintf("%s g%d", a.Family, a.Groups)
	}
	return fmt.Sprintf("%s g%d %gx", a.Family, a.Groups, a.Width)
}

// InputSize is the side of the square input the network is built for.
func (a Architecture) InputSize() int { return a.Input.Crop }

const (
	maxChannels = 1 << 14
	maxClasses  = 1 << 16
	maxUnits    = 64
)

// Validate checks that every layer's channels divide by its groups and that
// every setting is one the forward pass implements. Errors name the layer.
func (a Architecture) Validate() error {
	if a.Groups < 1 {
		return fmt.Errorf("groups=%d: must be at least 1", a.Groups)
	}
	// Generous bounds (the widest published model has 3072 channels) that
	// keep a corrupt description from sizing absurd buffers.
	if a.Groups > maxChannels || a.StemChannels < 1 || a.StemChannels > maxChannels || a.Classes < 1 || a.Classes > maxClasses {
		return fmt.Errorf("groups %d, stem channels %d, classes %d: out of range", a.Groups, a.StemChannels, a.Classes)
	}
	for s, c := range a.StageChannels {
		if c < 1 || c > maxChannels || a.StageUnits[s] < 1 || a.StageUnits[s] > maxUnits {
			return fmt.Errorf("stage %d: %d channels in %d units: out of range", s+2, c, a.StageUnits[s])
		}
	}
	if a.Input.Crop < 64 || a.Input.Crop > 1024 || a.Input.Crop%32 != 0 {
		return fmt.Errorf("input size %d: must be a multiple of 32 between 64 and 1024", a.Input.Crop)
	}
	if err := a.Input.validate(); err != nil {
		return fmt.Errorf("input convention: %w", err)
	}
	switch a.Shuffle {
	case ShuffleNone, ShuffleStandard, ShuffleMegvii:
	default:
		return fmt.Errorf("unknown channel shuffle %q", a.Shuffle)
	}
	switch a.ShufflePosition {
	case AfterCompress:
	case AfterSpatial:
		if !a.Depthwise && a.Shuffle != ShuffleNone {
			// A shuffle after a grouped (not depthwise) 3x3 conv cannot be
			// moved in front of it, and no published model has one.
			return fmt.Errorf("a channel shuffle after a grouped 3x3 conv is not supported")
		}
	default:
		return fmt.Errorf("unknown shuffle position %q", a.ShufflePosition)
	}
	if a.Groups == 1 && a.Shuffle != ShuffleNone {
		return fmt.Errorf("groups=1 has no channel shuffle, got %q", a.Shuffle)
	}
	if a.Groups > 1 && a.Shuffle == ShuffleNone {
		return fmt.Errorf("groups=%d needs a channel shuffle", a.Groups)
	}
	for _, u := range a.Units() {
		if err := u.validate(a); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the preprocessing a weights file asks for: a crop
// from a resize of at most four times its size (every published model
// resizes to 256 for 224), finite, positive scales and finite means, and
// a filter preprocessing implements.
func (in InputConvention) validate() error {
	if in.ResizeShort < in.Crop || in.ResizeShort > 4*in.Crop {
		return fmt.Errorf("resize_short %d: must be from the crop, %d, to four times it, %d", in.ResizeShort, in.Crop, 4*in.Crop)
	}
	for _, s := range []float32{in.Scale, in.Std[0], in.Std[1], in.Std[2]} {
		if !(s > 0) || !finite(s) {
			return fmt.Errorf("scale and std must be positive and finite, got scale %g std %v", in.Scale, in.Std)
		}
	}
	for _, m := range in.Mean {
		if !finite(m) {
			return fmt.Errorf("mean must be finite, got %v", in.Mean)
		}
	}
	switch in.ResizeFilter {
	case "bilinear", "bilinear-antialias", "": // older files name none
	default:
		return fmt.Errorf("resize_filter %q: want bilinear or bilinear-antialias", in.ResizeFilter)
	}
	return nil
}

// UnitShape is the channel plan of one ShuffleNet unit.
type UnitShape struct {
	Name           string // e.g. "stage2.unit0"
	Stage, Index   int    // stage 2..4, unit index within the stage
	In, Out        int    // unit input and output channels
	Mid            int    // bottleneck channels
	MainOut        int    // channels from the expand conv (Out, or Out-In when Stride is 2)
	Stride         int
	CompressGroups int
	SpatialGroups  int
	ExpandGroups   int
	InSize         int // input height = width
}

// OutSize is the unit's output height (= width).
func (u UnitShape) OutSize() int { return u.InSize / u.Stride }

func (u UnitShape) validate(a Architecture) error {
	check := func(layer string, channels, groups int) error {
		if channels <= 0 || channels%groups != 0 {
			return fmt.Errorf("%s: %d channels do not divide into %d groups", layer, channels, groups)
		}
		return nil
	}
	if u.MainOut <= 0 || u.Mid <= 0 {
		return fmt.Errorf("%s: %d input channels leave %d output and %d bottleneck channels", u.Name, u.In, u.MainOut, u.Mid)
	}
	for _, c := range []struct {
		layer    string
		channels int
		groups   int
	}{
		{u.Name + ".compress input", u.In, u.CompressGroups},
		{u.Name + ".compress output", u.Mid, u.CompressGroups},
		{u.Name + ".spatial", u.Mid, u.SpatialGroups},
		{u.Name + ".expand input", u.Mid, u.ExpandGroups},
		{u.Name + ".expand output", u.MainOut, u.ExpandGroups},
	} {
		if err := check(c.layer, c.channels, c.groups); err != nil {
			return err
		}
	}
	if u.Stride == 2 && u.InSize%2 != 0 {
		return fmt.Errorf("%s: odd input size %d", u.Name, u.InSize)
	}
	return nil
}

// StemSize is the side of the stem conv's output (before the max pool).
func (a Architecture) StemSize() int { return a.Input.Crop / 2 }

// Units lists the 16 (or more) units in order with their shapes.
func (a Architecture) Units() []UnitShape {
	var units []UnitShape
	in, size := a.StemChannels, a.Input.Crop/4
	for s := range 3 {
		out := a.StageChannels[s]
		for i := range a.StageUnits[s] {
			u := UnitShape{
				// Not fmt.Sprintf: a model's load calls Units many times,
				// which was enough to make a browser recompile fmt.
				Name:  "stage" + strconv.Itoa(s+2) + ".unit" + strconv.Itoa(i),
				Stage: s + 2, Index: i,
				In: in, Out: out, Mid: out / 4, MainOut: out, Stride: 1,
				CompressGroups: a.Groups, SpatialGroups: a.Groups, ExpandGroups: a.Groups,
				InSize: size,
			}
			if i == 0 {
				u.Stride = 2
				u.MainOut = out - in
			}
			if s == 0 && i == 0 && !a.GroupedFirstCompress {
				u.CompressGroups = 1
			}
			if a.Depthwise {
				u.SpatialGroups = u.Mid
			}
			units = append(units, u)
			in, size = out, u.OutSize()
		}
	}
	return units
}

// Unit finds a unit by its name ("stage3.unit1").
func (a Architecture) Unit(name string) (UnitShape, bool) {
	for _, u := range a.Units() {
		if u.Name == name {
			return u, true
		}
	}
	return UnitShape{}, false
}

// FeatureChannels is the width of the last stage, the classifier's input.
func (a Architecture) FeatureChannels() int { return a.StageChannels[2] }

// FeatureSize is the side of the last stage's feature map (7 for 224 inputs).
func (a Architecture) FeatureSize() int { return a.Input.Crop / 32 }
