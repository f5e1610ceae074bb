package checkpoint

import (
	"fmt"

	"github.com/shufflenet-go/shufflenet/engine"
)

// layerKeys names one layer's tensors in a state dict.
type layerKeys struct {
	weight string
	bias   string // "" when the family's layer has no bias
	norm   string // prefix of the batch norm after it, "" when none
}

// layout is a family's state-dict naming scheme.
type layout struct {
	stem layerKeys
	// unit names the compress, spatial and expand convs of unit index
	// (0-based) of stage (0-based: the paper's stage 2 is 0); global counts
	// units across stages.
	unit       func(stage, index, global int) [3]layerKeys
	classifier layerKeys
}

var layouts = map[engine.Family]layout{
	// The seed's module names: conv1, stage{2,3,4}.stage_{s}_unit_{i}.unit_{1,2,3}.{0 conv, 1 BN}, fc.
	engine.Seed: {
		stem: layerKeys{weight: "conv1.weight", bias: "conv1.bias"},
		unit: func(stage, index, _ int) [3]layerKeys {
			var k [3]layerKeys
			for j := range k {
				p := fmt.Sprintf("stage%d.stage_%d_unit_%d.unit_%d.", stage+2, stage+2, index, j+1)
				k[j] = layerKeys{weight: p + "0.weight", bias: p + "0.bias", norm: p + "1"}
			}
			return k
		},
		classifier: layerKeys{weight: "fc.weight", bias: "fc.bias"},
	},
	// Megvii ShuffleNet-Series: first_conv.{0 conv,1 BN}; features.{k}.branch_main_1.{0 conv, 1 BN, 3 dw, 4 BN},
	// branch_main_2.{0 conv, 1 BN}; classifier.0 without bias.
	engine.Megvii: {
		stem: layerKeys{weight: "first_conv.0.weight", norm: "first_conv.1"},
		unit: func(_, _, global int) [3]layerKeys {
			p := fmt.Sprintf("features.%d.", global)
			return [3]layerKeys{
				{weight: p + "branch_main_1.0.weight", norm: p + "branch_main_1.1"},
				{weight: p + "branch_main_1.3.weight", norm: p + "branch_main_1.4"},
				{weight: p + "branch_main_2.0.weight", norm: p + "branch_main_2.1"},
			}
		},
		classifier: layerKeys{weight: "classifier.0.weight"},
	},
	// pytorchcv: features.init_block.{conv,bn}; features.stage{1..3}.unit{1..n}.{compress_conv1, compress_bn1,
	// dw_conv2, dw_bn2, expand_conv3, expand_bn3}; output.
	engine.Pytorchcv: {
		stem: layerKeys{weight: "features.init_block.conv.weight", norm: "features.init_block.bn"},
		unit: func(stage, index, _ int) [3]layerKeys {
			p := fmt.Sprintf("features.stage%d.unit%d.", stage+1, index+1)
			return [3]layerKeys{
				{weight: p + "compress_conv1.weight", norm: p + "compress_bn1"},
				{weight: p + "dw_conv2.weight", norm: p + "dw_bn2"},
				{weight: p + "expand_conv3.weight", norm: p + "expand_bn3"},
			}
		},
		classifier: layerKeys{weight: "output.weight", bias: "output.bias"},
	},
	// mmpretrain: backbone.conv1.{conv,bn}; backbone.layers.{s}.{i}.{g_conv_1x1_compress,
	// depthwise_conv3x3_bn, g_conv_1x1_expand}.{conv,bn}; head.fc.
	engine.MMPretrain: {
		stem: layerKeys{weight: "backbone.conv1.conv.weight", norm: "backbone.conv1.bn"},
		unit: func(stage, index, _ int) [3]layerKeys {
			p := fmt.Sprintf("backbone.layers.%d.%d.", stage, index)
			var k [3]layerKeys
			for j, m := range []string{"g_conv_1x1_compress", "depthwise_conv3x3_bn", "g_conv_1x1_expand"} {
				k[j] = layerKeys{weight: p + m + ".conv.weight", norm: p + m + ".bn"}
			}
			return k
		},
		classifier: layerKeys{weight: "head.fc.weight", bias: "head.fc.bias"},
	},
}

// architecture reads the groups and widths off the tensor shapes: the stem
// conv's outputs, and each stage's first unit, whose expand conv makes
// out-in channels and whose weights have mid/groups inputs. (A checkpoint
// with more or fewer units than 4/8/4 fails later, on a missing or an
// unexpected tensor.)
func (l layout) architecture(f engine.Family, k *keySet) (engine.Architecture, error) {
	stem, err := k.shape(l.stem.weight)
	if err != nil {
		return engine.Architecture{}, err
	}
	if len(stem) != 4 {
		return engine.Architecture{}, fmt.Errorf("tensor %q has shape %v, want 4 dimensions", l.stem.weight, stem)
	}
	in, groups, global := stem[0], 0, 0
	var stages [3]int
	for s, want := range [3]int{4, 8, 4} {
		first := l.unit(s, 0, global)
		compress, err := k.shape(first[0].weight)
		if err != nil {
			return engine.Architecture{}, err
		}
		expand, err := k.shape(first[2].weight)
		if err != nil {
			return engine.Architecture{}, err
		}
		if len(compress) != 4 || len(expand) != 4 || expand[1] <= 0 || compress[0]%expand[1] != 0 {
			return engine.Architecture{}, fmt.Errorf("stage %d: compress %v and expand %v shapes do not fit a ShuffleNet unit", s+2, compress, expand)
		}
		g := compress[0] / expand[1]
		if groups != 0 && g != groups {
			return engine.Architecture{}, fmt.Errorf("stage %d has %d groups, stage 2 has %d", s+2, g, groups)
		}
		groups = g
		stages[s] = in + expand[0]
		in = stages[s]
		global += want
	}
	return engine.NewArchitecture(f, groups, stem[0], stages)
}

// trained takes every layer's tensors, checking each shape against a.
func (l layout) trained(a engine.Architecture, k *keySet) (engine.Trained, error) {
	var t engine.Trained
	var err error
	if t.Stem, err = takeLayer(k, l.stem, a.StemConv()); err != nil {
		return t, err
	}
	units := a.Units()
	t.Units = make([]engine.TrainedUnit, len(units))
	for i, u := range units {
		keys := l.unit(u.Stage-2, u.Index, i)
		tu := &t.Units[i]
		for j, dst := range []*engine.Layer{&tu.Compress, &tu.Spatial, &tu.Expand} {
			shape := [3]engine.ConvShape{u.Compress(), u.Spatial(), u.Expand()}[j]
			if *dst, err = takeLayer(k, keys[j], shape); err != nil {
				return t, err
			}
		}
	}
	t.Classifier, err = takeLayer(k, l.classifier, a.Classifier())
	return t, err
}

// takeLayer reads one layer: weight, then bias and batch norm where the
// family has them.
func takeLayer(k *keySet, keys layerKeys, s engine.ConvShape) (engine.Layer, error) {
	shape := []int{s.Out, s.In / s.Groups, s.Kernel, s.Kernel}
	if s.Role == engine.RoleClassifier {
		shape = []int{s.Out, s.In} // nn.Linear
	}
	var l engine.Layer
	var err error
	if l.Weight, err = k.take(keys.weight, shape...); err != nil {
		return l, fmt.Errorf("%s: %w", s.Name, err)
	}
	if keys.bias != "" {
		if l.Bias, err = k.take(keys.bias, s.Out); err != nil {
			return l, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	if keys.norm != "" {
		n := &engine.BatchNorm{Eps: 1e-5} // every family uses PyTorch's default eps
		for _, p := range []struct {
			suffix string
			dst    *[]float32
		}{{".weight", &n.Weight}, {".bias", &n.Bias}, {".running_mean", &n.Mean}, {".running_var", &n.Var}} {
			if *p.dst, err = k.take(keys.norm+p.suffix, s.Out); err != nil {
				return l, fmt.Errorf("%s batch norm: %w", s.Name, err)
			}
		}
		l.Norm = n
	}
	return l, nil
}
