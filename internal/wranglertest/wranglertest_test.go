//go:build unix

package wranglertest

import "testing"

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		version string
		want    bool
	}{
		{"v22.12.0", true},
		{"v22.23.3", true},
		{"v23.0.0", true},
		{"v22.11.9", false},
		{"v20.20.2", false},
		{"22.12.0", true},
		{"v22", false},
		{"v22.x.0", false},
		{"", false},
	} {
		if got := atLeast(c.version, [3]int{22, 12, 0}); got != c.want {
			t.Errorf("atLeast(%q) = %t, want %t", c.version, got, c.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		name, line string
		comm       string
		pgid       int
		ticks      int64
		ok         bool
	}{
		{"workerd", "4242 (workerd) S 4200 4100 4100 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 3 0", "workerd", 4100, 281, true},
		{"a name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0", "a (b) c", 7, 11, true},
		{"truncated", "7 (node) R 1 7", "", 0, 0, false},
		{"no name", "garbage", "", 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			comm, pgid, ticks, ok := parseStat(c.line)
			if comm != c.comm || pgid != c.pgid || ticks != c.ticks || ok != c.ok {
				t.Errorf("got %q %d %d %t, want %q %d %d %t", comm, pgid, ticks, ok, c.comm, c.pgid, c.ticks, c.ok)
			}
		})
	}
}
