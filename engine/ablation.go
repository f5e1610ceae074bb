package engine

import "fmt"

// NewWithoutShuffle builds the ablation the paper argues from: the same
// weights with every channel shuffle replaced by the identity, so that each
// grouped conv reads only the channels its own group made, stage after
// stage. It is a network of its own, built once (the explorer builds it
// the first time it is asked for); Forward has no branch for it.
//
// p is in the runtime layout (see Fold), where a shuffle that the family
// places after its depthwise 3x3 has been moved in front of it by
// permuting that conv's channels; the permutation is undone here, which is
// exact for the same reason it was done.
func NewWithoutShuffle(a Architecture, p Params) (*Network, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := p.Check(a); err != nil {
		return nil, err
	}
	plain := p
	if a.ShufflePosition == AfterSpatial && a.Shuffle != ShuffleNone {
		plain.Units = make([]UnitParams, len(p.Units))
		for i, u := range a.Units() {
			plain.Units[i] = p.Units[i]
			plain.Units[i].Spatial = permuteOutputs(p.Units[i].Spatial, inverse(shufflePermutation(a.Shuffle, u.Mid, a.Groups)))
		}
	}
	// Validate refuses groups > 1 without a shuffle, rightly for a
	// checkpoint; here it is the point.
	a.Shuffle = ShuffleNone
	return build(a, plain), nil
}

// inverse returns the permutation that undoes perm.
func inverse(perm []int) []int {
	inv := make([]int, len(perm))
	for j, from := range perm {
		inv[from] = j
	}
	return inv
}

// Shuffle returns the channel shuffle of a unit (stage 2 to 4, its index
// within the stage) as this network applies it: shuffled channel j is the
// compress conv's channel perm[j]. It is read from where the network
// writes each compress channel, so it is the permutation Forward uses; for
// a network without a shuffle it is the identity.
func (n *Network) Shuffle(stage, index int) ([]int, error) {
	if stage < 2 || stage > 4 || index < 0 || index >= len(n.stages[stage-2]) {
		return nil, fmt.Errorf("shuffle: no unit %d in stage %d", index, stage)
	}
	c := &n.stages[stage-2][index].compress
	perm := make([]int, c.out)
	for o := range c.out {
		perm[c.plane(o)] = o
	}
	return perm, nil
}
