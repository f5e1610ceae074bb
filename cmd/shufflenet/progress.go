package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// onTerminal reports whether f is a terminal outside CI: the only place
// where a progress line that rewrites itself is worth printing.
func onTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0 && os.Getenv("CI") == ""
}

// itemProgress returns a progress callback that rewrites one line on w:
// what, items done of total, percent and rate; nil when stderr is no
// terminal, so that pipes and CI logs stay quiet.
func itemProgress(w io.Writer, what, unit string) func(done, total int) {
	if !onTerminal(os.Stderr) {
		return nil
	}
	start := time.Now()
	return func(done, total int) {
		rate := float64(done) / max(time.Since(start).Seconds(), 1e-3)
		fmt.Fprintf(w, "\r%s: %d/%d %s (%d%%, %.1f %s/s)", what, done, total, unit, 100*done/max(total, 1), rate, unit)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
