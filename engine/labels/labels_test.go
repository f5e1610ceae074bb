package labels

import "testing"

func TestImageNet1K(t *testing.T) {
	names := ImageNet1K()
	if len(names) != 1000 {
		t.Fatalf("%d names, want 1000", len(names))
	}
	for _, c := range []struct {
		i    int
		want string
	}{{0, "tench"}, {285, "Egyptian cat"}, {999, "toilet tissue"}, {1000, "class 1000"}, {-3, "class -3"}} {
		if got := Name(c.i); got != c.want {
			t.Errorf("Name(%d) = %q, want %q", c.i, got, c.want)
		}
	}
}
