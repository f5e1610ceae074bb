package engine

// SummaryRow is one line of a layer table like torchsummary's: a module,
// its output shape (channels, height, width) and its trainable parameters,
// plus its multiply-accumulates.
type SummaryRow struct {
	Layer  string // e.g. "stage2.unit0.compress"
	Type   string // PyTorch module type: Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Linear
	Output [3]int
	Params int64
	MACs   int64
}

// Summary lists the network's modules in execution order, as the trained
// model has them (batch norms separate, before folding).
func (a Architecture) Summary() []SummaryRow {
	var rows []SummaryRow
	conv := func(s ConvShape, bias, norm, relu bool) {
		out := [3]int{s.Out, s.OutSize, s.OutSize}
		params := int64(s.WeightLen())
		if bias {
			params += int64(s.Out)
		}
		rows = append(rows, SummaryRow{Layer: s.Name, Type: "Conv2d", Output: out, Params: params, MACs: s.MACs()})
		if norm {
			rows = append(rows, SummaryRow{Layer: s.Name + ".bn", Type: "BatchNorm2d", Output: out, Params: 2 * int64(s.Out)})
		}
		if relu {
			rows = append(rows, SummaryRow{Layer: s.Name + ".relu", Type: "ReLU", Output: out})
		}
	}
	stem := a.StemConv()
	conv(stem, a.ConvBias, a.StemBatchNorm, a.StemReLU)
	rows = append(rows, SummaryRow{Layer: "stem.maxpool", Type: "MaxPool2d", Output: [3]int{stem.Out, stem.OutSize / 2, stem.OutSize / 2}})
	for _, u := range a.Units() {
		conv(u.Compress(), a.ConvBias, true, true)
		conv(u.Spatial(), a.ConvBias, true, false)
		conv(u.Expand(), a.ConvBias, true, false)
		out := [3]int{u.Out, u.OutSize(), u.OutSize()}
		if u.Stride == 2 {
			rows = append(rows, SummaryRow{Layer: u.Name + ".shortcut", Type: "AvgPool2d", Output: [3]int{u.In, u.OutSize(), u.OutSize()}})
		}
		rows = append(rows, SummaryRow{Layer: u.Name + ".relu", Type: "ReLU", Output: out})
	}
	rows = append(rows, SummaryRow{Layer: "pool", Type: "AdaptiveAvgPool2d", Output: [3]int{a.FeatureChannels(), 1, 1}})
	c := a.Classifier()
	params := int64(c.WeightLen())
	if a.ClassifierBias {
		params += int64(c.Out)
	}
	rows = append(rows, SummaryRow{Layer: "classifier", Type: "Linear", Output: [3]int{c.Out, 1, 1}, Params: params, MACs: c.MACs()})
	return rows
}

// ParamCount is the number of trainable parameters, as PyTorch counts them
// (batch norm running statistics excluded).
func (a Architecture) ParamCount() int64 {
	var n int64
	for _, r := range a.Summary() {
		n += r.Params
	}
	return n
}
