package engine

import (
	"fmt"
	"math"
)

// Fold turns a trained network into the runtime layout. It runs once, at
// load time, so that Forward does no batch norm and no channel shuffle:
//
//   - Every batch norm is folded into the conv before it:
//     W' = W*s and b' = (b-mean)*s + beta, with s = gamma/sqrt(var+eps).
//   - A shuffle placed after a depthwise conv (Megvii, mmpretrain) is moved in
//     front of it by permuting the depthwise conv's channels, which is exact
//     because a depthwise conv treats each channel alone. After Fold, every
//     shuffle sits right after the compress conv, and the network folds it into
//     where the compress conv writes each channel (see compressPlanes).
func Fold(a Architecture, t Trained) (Params, error) {
	if err := a.Validate(); err != nil {
		return Params{}, err
	}
	if err := t.Check(a); err != nil {
		return Params{}, err
	}
	p := Params{
		Stem:       foldBatchNorm(t.Stem, a.StemChannels),
		Units:      make([]UnitParams, len(t.Units)),
		Classifier: foldBatchNorm(t.Classifier, a.Classes),
	}
	for i, u := range a.Units() {
		tu := t.Units[i]
		pu := UnitParams{
			Compress: foldBatchNorm(tu.Compress, u.Mid),
			Spatial:  foldBatchNorm(tu.Spatial, u.Mid),
			Expand:   foldBatchNorm(tu.Expand, u.MainOut),
		}
		if a.ShufflePosition == AfterSpatial && a.Shuffle != ShuffleNone {
			pu.Spatial = permuteOutputs(pu.Spatial, shufflePermutation(a.Shuffle, u.Mid, a.Groups))
		}
		p.Units[i] = pu
	}
	if err := p.Check(a); err != nil {
		return Params{}, fmt.Errorf("folding produced bad params: %w", err)
	}
	return p, nil
}

// foldBatchNorm returns l as one affine conv: its batch norm (if any) folded
// into its weights and bias, and a zero bias where it had none. The
// arithmetic is done in float64 so folding adds no error of its own.
func foldBatchNorm(l Layer, outputs int) Conv {
	c := Conv{Weight: make([]float32, len(l.Weight)), Bias: make([]float32, outputs)}
	perOutput := len(l.Weight) / outputs
	for o := range outputs {
		scale, shift := 1.0, 0.0
		if n := l.Norm; n != nil {
			scale = float64(n.Weight[o]) / math.Sqrt(float64(n.Var[o])+float64(n.Eps))
			shift = float64(n.Bias[o]) - float64(n.Mean[o])*scale
		}
		bias := 0.0
		if l.Bias != nil {
			bias = float64(l.Bias[o])
		}
		c.Bias[o] = float32(bias*scale + shift)
		for i := o * perOutput; i < (o+1)*perOutput; i++ {
			c.Weight[i] = float32(float64(l.Weight[i]) * scale)
		}
	}
	return c
}

// shufflePermutation returns perm with shuffled[j] = original[perm[j]] for
// a shuffle of the given kind over channels split into groups.
func shufflePermutation(kind Shuffle, channels, groups int) []int {
	perm := make([]int, channels)
	perGroup := channels / groups
	for j := range perm {
		switch kind {
		case ShuffleStandard: // view(g, C/g).transpose: read the grid column by column
			perm[j] = (j%groups)*perGroup + j/groups
		case ShuffleMegvii: // reshape(C/g, g).permute: the inverse reading
			perm[j] = (j%perGroup)*groups + j/perGroup
		default:
			perm[j] = j
		}
	}
	return perm
}

// permuteOutputs returns c with output channel j taken from channel perm[j].
func permuteOutputs(c Conv, perm []int) Conv {
	rowLen := len(c.Weight) / len(perm)
	out := Conv{Weight: make([]float32, len(c.Weight)), Bias: make([]float32, len(c.Bias))}
	for j, from := range perm {
		copy(out.Weight[j*rowLen:(j+1)*rowLen], c.Weight[from*rowLen:(from+1)*rowLen])
		out.Bias[j] = c.Bias[from]
	}
	return out
}

// compressPlanes says where a unit's compress conv writes each output
// channel so that its output lands already shuffled: channel c goes to
// plane planes[c], the position the shuffle would have moved it to. For a
// network without a shuffle it is the identity.
func compressPlanes(a Architecture, mid int) []int {
	return inverse(shufflePermutation(a.Shuffle, mid, a.Groups))
}
