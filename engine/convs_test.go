package engine

import (
	"strings"
	"testing"
)

// Convs reaches every conv of Params and every layer of Trained exactly
// once, numbered as it walks, each in the unit that holds it: what Check,
// Count and the weights file rely on. Its MACs agree with Summary's own
// walk. (weights/checkpoint checks the order against PyTorch's.)
func TestConvsReachEveryLayerOnce(t *testing.T) {
	short, err := MegviiArchitecture(8, 2)
	if err != nil {
		t.Fatal(err)
	}
	short.StageUnits = [3]int{1, 2, 1}
	for _, c := range []struct {
		name  string
		arch  func() (Architecture, error)
		convs int // 1 stem + 3 per unit + 1 classifier
	}{
		{"seed g1", func() (Architecture, error) { return SeedArchitecture(1) }, 50},
		{"megvii g3 0.5x", func() (Architecture, error) { return MegviiArchitecture(3, 0.5) }, 50},
		{"pytorchcv g3 0.5x", func() (Architecture, error) { return PytorchcvArchitecture(3, 0.5) }, 50},
		{"mmpretrain g8", func() (Architecture, error) { return MMPretrainArchitecture(8) }, 50},
		{"1, 2 and 1 units", func() (Architecture, error) { return short, short.Validate() }, 14},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.arch()
			if err != nil {
				t.Fatal(err)
			}
			units := a.Units()
			p := Params{Units: make([]UnitParams, len(units))}
			tr := Trained{Units: make([]TrainedUnit, len(units))}
			convs, layers := map[*Conv]bool{}, map[*Layer]bool{}
			n := 0
			for s, shape := range a.Convs() {
				if s.Index != n {
					t.Fatalf("conv %d has index %d", n, s.Index)
				}
				n++
				if s.Role != shape.Role {
					t.Errorf("conv %d: slot role %s, shape role %s", s.Index, s.Role, shape.Role)
				}
				inUnit := s.Role != RoleStem && s.Role != RoleClassifier
				if inUnit != (s.Unit >= 0) || inUnit && !strings.HasPrefix(shape.Name, units[s.Unit].Name+".") {
					t.Errorf("conv %d (%s) is in unit %d", s.Index, shape.Name, s.Unit)
				}
				if s.Index == 0 && s.Role != RoleStem {
					t.Errorf("conv 0 is %s, want the stem", s.Role)
				}
				convs[p.Conv(s)], layers[tr.Layer(s)] = true, true
				*p.Conv(s) = Conv{Weight: make([]float32, shape.WeightLen()), Bias: make([]float32, shape.Out)}
			}
			if n != c.convs || len(convs) != n || len(layers) != n {
				t.Errorf("%d convs reaching %d distinct Params convs and %d Trained layers, want %d of each", n, len(convs), len(layers), c.convs)
			}
			if err := p.Check(a); err != nil {
				t.Errorf("params sized by Convs: %v", err)
			}
			// Summary walks the layers by hand, as PyTorch lists its modules.
			var macs int64
			for _, r := range a.Summary() {
				macs += r.MACs
			}
			if a.MACs() != macs {
				t.Errorf("MACs = %d, the summary's layers make %d", a.MACs(), macs)
			}
		})
	}
}

// Convs stops when the loop over it stops (range-over-func panics if an
// iterator yields after that).
func TestConvsStopsEarly(t *testing.T) {
	a, err := SeedArchitecture(3)
	if err != nil {
		t.Fatal(err)
	}
	for stop := range 50 {
		n := 0
		for s := range a.Convs() {
			if s.Index == stop {
				break
			}
			n++
		}
		if n != stop {
			t.Fatalf("stopping at %d walked %d convs", stop, n)
		}
	}
}
