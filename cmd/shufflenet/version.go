package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/shufflenet-go/shufflenet/engine"
)

// version is the release's version; `make release` sets it with
// -ldflags "-X main.version=...".
var version = "dev"

func runVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: shufflenet version") }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	commit := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			commit = rev[:min(12, len(rev))]
			if settings["vcs.modified"] == "true" {
				commit += " (modified)"
			}
		}
	}
	fmt.Fprintf(stdout, "shufflenet %s\ncommit   %s\ngo       %s %s/%s\nkernels  %s\n",
		version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, engine.Kernels())
	return nil
}
