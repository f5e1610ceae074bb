package engine

import (
	"math"
	"strings"
	"testing"
)

func TestSeedParamsAndMACs(t *testing.T) {
	// Trainable parameters as PyTorch counts them for the seed code, and
	// MACs as the peer benchmark's manifest gives them.
	for _, c := range []struct {
		groups int
		params int64
		macs   int64
	}{
		{1, 2_693_968, 0},
		{2, 2_852_200, 0},
		{3, 2_937_520, 266_115_072},
		{4, 2_999_312, 0},
		{8, 3_457_984, 256_003_584},
	} {
		a, err := SeedArchitecture(c.groups)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.ParamCount(); got != c.params {
			t.Errorf("seed g%d: %d params, PyTorch counts %d", c.groups, got, c.params)
		}
		if c.macs != 0 && a.MACs() != c.macs {
			t.Errorf("seed g%d: %d MACs, want %d", c.groups, a.MACs(), c.macs)
		}
	}
}

func TestPublishedParamCounts(t *testing.T) {
	for _, c := range []struct {
		name   string
		arch   func() (Architecture, error)
		params int64
	}{
		// Megvii's README and docs/checkpoint-families.md.
		{"megvii g3 0.5x", func() (Architecture, error) { return MegviiArchitecture(3, 0.5) }, 717_324},
		{"megvii g3 1x", func() (Architecture, error) { return MegviiArchitecture(3, 1) }, 1_864_728},
		{"megvii g8 0.5x", func() (Architecture, error) { return MegviiArchitecture(8, 0.5) }, 1_010_448},
		{"megvii g8 2x", func() (Architecture, error) { return MegviiArchitecture(8, 2) }, 6_521_232},
		// pytorchcv's _test asserts.
		{"pytorchcv g3 wd2", func() (Architecture, error) { return PytorchcvArchitecture(3, 0.5) }, 718_324},
		{"pytorchcv g1 wd4", func() (Architecture, error) { return PytorchcvArchitecture(1, 0.25) }, 209_746},
		{"pytorchcv g8 w1", func() (Architecture, error) { return PytorchcvArchitecture(8, 1) }, 2_434_768},
		{"pytorchcv g1 w3d4", func() (Architecture, error) { return PytorchcvArchitecture(1, 0.75) }, 975_214},
	} {
		a, err := c.arch()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := a.ParamCount(); got != c.params {
			t.Errorf("%s: %d params, want %d", c.name, got, c.params)
		}
	}
}

func TestValidateNamesTheLayer(t *testing.T) {
	_, err := SeedArchitecture(5)
	if err == nil || !strings.Contains(err.Error(), "stage2.unit0.compress") || !strings.Contains(err.Error(), "24 channels") {
		t.Fatalf("groups=5: error %v, want one naming stage2.unit0.compress and its 24 channels", err)
	}
	t.Log(err)
	if _, err := NewArchitecture("caffe2", 4, 24, [3]int{136, 272, 544}); err == nil {
		t.Error("unknown family accepted")
	}
}

func TestShufflePermutations(t *testing.T) {
	// Examples from docs/checkpoint-families.md: C=6, g=3.
	for _, c := range []struct {
		kind Shuffle
		want []int
	}{
		{ShuffleStandard, []int{0, 2, 4, 1, 3, 5}},
		{ShuffleMegvii, []int{0, 3, 1, 4, 2, 5}},
	} {
		got := shufflePermutation(c.kind, 6, 3)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.kind, got, c.want)
				break
			}
		}
	}
}

func TestTopK(t *testing.T) {
	v := []float32{0.1, 0.5, 0.2, 0.5, 0.9, -1}
	got := TopK(v, 3)
	want := []int{4, 1, 3}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("TopK = %v, want %v", got, want)
	}
	if got := TopK(v, 10); len(got) != 6 || got[5] != 5 {
		t.Errorf("TopK(10) = %v", got)
	}
	if got := TopK(v, 0); len(got) != 0 {
		t.Errorf("TopK(0) = %v", got)
	}
}

// Every field of the input convention a weights file gives is checked: a
// resize that would size absurd images, non-positive or non-finite scales,
// unknown filters.
func TestValidateInputConvention(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		name   string
		change func(*InputConvention)
		want   string
	}{
		{"resize 200000", func(in *InputConvention) { in.ResizeShort = 200000 }, "resize_short 200000"},
		{"resize 0", func(in *InputConvention) { in.ResizeShort = 0 }, "resize_short 0"},
		{"resize negative", func(in *InputConvention) { in.ResizeShort = -256 }, "resize_short -256"},
		{"resize below the crop", func(in *InputConvention) { in.ResizeShort = 200 }, "resize_short 200"},
		{"crop 0", func(in *InputConvention) { in.Crop = 0 }, "input size 0"},
		{"scale 0", func(in *InputConvention) { in.Scale = 0 }, "scale"},
		{"std infinite", func(in *InputConvention) { in.Std[1] = float32(math.Inf(1)) }, "std"},
		{"std NaN", func(in *InputConvention) { in.Std[2] = nan }, "std"},
		{"mean NaN", func(in *InputConvention) { in.Mean[0] = nan }, "mean"},
		{"unknown filter", func(in *InputConvention) { in.ResizeFilter = "lanczos" }, "lanczos"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := MegviiArchitecture(3, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			c.change(&a.Input)
			err = a.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
	for _, resize := range []int{224, 256, 896} {
		a, _ := MegviiArchitecture(3, 0.5)
		a.Input.ResizeShort = resize
		if err := a.Validate(); err != nil {
			t.Errorf("resize_short %d: %v", resize, err)
		}
	}
}

func TestUnitByName(t *testing.T) {
	a, err := SeedArchitecture(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		ok           bool
		stage, index int
		stride, mid  int
	}{
		{"stage2.unit0", true, 2, 0, 2, 60},
		{"stage3.unit7", true, 3, 7, 1, 120},
		{"stage4.unit3", true, 4, 3, 1, 240},
		{"stage4.unit4", false, 0, 0, 0, 0},
		{"", false, 0, 0, 0, 0},
	} {
		u, ok := a.Unit(c.name)
		if ok != c.ok || u.Stage != c.stage || u.Index != c.index || u.Stride != c.stride || u.Mid != c.mid {
			t.Errorf("Unit(%q) = %+v, %v", c.name, u, ok)
		}
	}
}
