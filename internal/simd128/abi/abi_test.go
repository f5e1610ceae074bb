package abi

import "testing"

// The engine picks a kernel's variant by Of: the one for the conv's size,
// else the one for any size at its stride, else none.
func TestVariantsOf(t *testing.T) {
	for _, c := range []struct {
		vs              Variants
		stride, outSize int
		want            int32
	}{
		{ConvVariants, 1, 7, 2},
		{ConvVariants, 2, 112, 8},
		{ConvVariants, 1, 56, 0}, // no variant for 56: any size
		{ConvVariants, 2, 5, 1},
		{ConvVariants, 3, 7, -1},
		{GroupedVariants, 1, 7, 0},
		{GroupedVariants, 2, 14, 4},
		{GroupedVariants, 1, 56, -1}, // no variant for any size
	} {
		if got := c.vs.Of(c.stride, c.outSize); got != c.want {
			t.Errorf("%v.Of(%d, %d) = %d, want %d", c.vs, c.stride, c.outSize, got, c.want)
		}
	}
}

// The generator looks each export's parameters up by name, so a name
// must be there once.
func TestParamNamesUnique(t *testing.T) {
	for _, e := range Exports {
		seen := map[string]bool{}
		for _, p := range e.Params {
			if seen[p.Name] {
				t.Errorf("%s has two parameters called %s", e.Name, p.Name)
			}
			seen[p.Name] = true
		}
	}
}
