package engine

import "fmt"

// Step names one intermediate output that ForwardObserved reports.
type Step int

const (
	// StageOutput is a stage's output; stage 1's is the stem after its max pool.
	StageOutput Step = iota
	// Compress is a unit's 1x1 group conv (batch norm, ReLU), its channels in
	// the conv's own order, group after group.
	Compress
	// Shuffled is the compress output after the channel shuffle: the maps
	// in the order the next grouped conv reads them.
	Shuffled
	// Spatial is the 3x3 conv's output (batch norm, no ReLU), in the order
	// the expand conv reads it. Where a family shuffles after its depthwise
	// 3x3 (Megvii), that is the same maps: a depthwise conv treats each
	// channel alone, so the shuffle moves in front of it exactly (see Fold).
	Spatial
	// UnitOutput is the unit's output: the expand conv added to the input
	// (stride 1) or concatenated with its average pool (stride 2), then ReLU.
	UnitOutput
)

func (s Step) String() string {
	switch s {
	case StageOutput:
		return "stage output"
	case Compress:
		return "compress"
	case Shuffled:
		return "shuffled"
	case Spatial:
		return "3x3"
	case UnitOutput:
		return "unit output"
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// Activation is one intermediate output of a forward pass.
type Activation struct {
	Step  Step
	Stage int // 1 (the stem) to 4
	Unit  int // the unit's index within its stage; for StageOutput, the stage's last unit (0 for the stem)
	// Channels maps of Size x Size floats, channel after channel. Maps
	// belongs to the network and is overwritten as the pass goes on: an
	// observer copies what it keeps.
	Channels, Size int
	Maps           []float32
}

// An Observer is handed every intermediate output of a ForwardObserved
// pass, in the order the network computes them.
type Observer func(Activation)

// ForwardObserved is Forward, handing observe each stage's output and each
// unit's compress, shuffled, 3x3 and output maps as they are computed.
// Forward is ForwardObserved without an observer: the maps are the ones
// Forward computes anyway, so observing adds only observe's own work and
// one copy per unit, to put the compress output back in its own order.
func (n *Network) ForwardObserved(input []float32, observe Observer) ([]float32, error) {
	if observe != nil && n.buf.unshuffled == nil {
		n.buf.unshuffled = make([]float32, len(n.buf.compressed.maps))
	}
	return n.forward(input, observe)
}

// report hands observe the activation, if there is an observer.
func (observe Observer) report(step Step, stage, unit, channels, size int, maps []float32) {
	if observe != nil {
		observe(Activation{Step: step, Stage: stage, Unit: unit, Channels: channels, Size: size, Maps: maps[:channels*size*size]})
	}
}

// reportSteps hands observe a unit's inner maps: the compress output
// (which the network writes already shuffled, so it is put back in its
// own order first), the same shuffled, and the 3x3 output.
func (u *unit) reportSteps(observe Observer, b *buffers) {
	if observe == nil {
		return
	}
	s := u.shape
	in := s.InSize * s.InSize
	shuffled := b.compressed.maps[:s.Mid*in]
	for c := range s.Mid {
		plane := u.compress.plane(c)
		copy(b.unshuffled[c*in:(c+1)*in], shuffled[plane*in:(plane+1)*in])
	}
	observe.report(Compress, s.Stage, s.Index, s.Mid, s.InSize, b.unshuffled)
	observe.report(Shuffled, s.Stage, s.Index, s.Mid, s.InSize, shuffled)
	observe.report(Spatial, s.Stage, s.Index, s.Mid, s.OutSize(), b.spatial)
}
