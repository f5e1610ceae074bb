// Command shufflenet-bench is this engine in the peer benchmark's native
// slot (../shared/bench, NATIVE_CMD; `make bench-peer` builds and plugs it
// in). It follows the slot's contract:
//
//	shufflenet-bench --model NAME --checkpoint ABS_PATH --input ABS_PATH/input.npy --threads T
//	    --runs N --warmup W --min-warmup-s S --logits OUT.npy
//
// It loads the PyTorch checkpoint as the CLI does (weights/checkpoint,
// engine.Fold, engine.New: float32, no conversion), warms up for at least
// W runs and S seconds, times N forward passes of one image each, writes
// the first pass's logits to OUT.npy and prints, as its last line,
// {"times_ms": [...], "threads_effective": 1, "version": "..."}.
//
// A Network runs on one thread: the server and the browser parallelise
// across pictures (one network per core or worker), not inside one. So
// whatever --threads asks, the passes run on one thread, and the answer
// says so (threads_effective 1) rather than pretending otherwise.
//
// It is a command of its own, not a CLI subcommand (it is a benchmark
// harness, not something a user runs) and not under internal/ (which
// imports none of the project's packages; this needs the engine and the
// checkpoint importer).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
	"github.com/shufflenet-go/shufflenet/weights/npy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shufflenet-bench:", err)
		os.Exit(1)
	}
}

// result is the last line the bench reads.
type result struct {
	TimesMs          []float64 `json:"times_ms"`
	ThreadsEffective int       `json:"threads_effective"`
	Version          string    `json:"version"`
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("shufflenet-bench", flag.ContinueOnError)
	model := fs.String("model", "", "the model's name in the bench's manifest (reported only)")
	ckpt := fs.String("checkpoint", "", "PyTorch checkpoint (.pth, .pth.tar) of any supported family")
	input := fs.String("input", "", "input tensor: float32 .npy, 1x3xSxS, already preprocessed")
	threads := fs.Int("threads", 1, "threads asked for (a network runs on one; see threads_effective)")
	runs := fs.Int("runs", 50, "timed forward passes")
	warmup := fs.Int("warmup", 10, "at least this many warmup passes")
	minWarmup := fs.Float64("min-warmup-s", 2, "and at least this many seconds of warmup")
	logitsPath := fs.String("logits", "", "where to write the first pass's logits (float32 .npy, 1x1000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || *input == "" || *logitsPath == "" || *runs < 1 || *threads < 1 {
		return errors.New("give --checkpoint, --input, --logits, --runs >= 1 and --threads >= 1")
	}
	data, err := os.ReadFile(*ckpt)
	if err != nil {
		return err
	}
	m, err := checkpoint.Read(data, "")
	if err != nil {
		return fmt.Errorf("load %s: %w", *ckpt, err)
	}
	params, err := engine.Fold(m.Arch, m.Trained)
	if err != nil {
		return fmt.Errorf("load %s: %w", *ckpt, err)
	}
	net, err := engine.New(m.Arch, params)
	if err != nil {
		return err
	}
	x, err := npy.ReadImage(*input, m.Arch.InputSize())
	if err != nil {
		return err
	}
	data, m, params = nil, nil, engine.Params{}
	runtime.GC()

	logits, err := net.Forward(x)
	if err != nil {
		return err
	}
	if err := npy.Write(*logitsPath, []int{1, len(logits)}, logits); err != nil {
		return err
	}
	start := time.Now()
	for n := 1; n < *warmup || time.Since(start).Seconds() < *minWarmup; n++ {
		if _, err := net.Forward(x); err != nil {
			return err
		}
	}
	times := make([]float64, *runs)
	for i := range times {
		t0 := time.Now()
		if _, err := net.Forward(x); err != nil {
			return err
		}
		times[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	fmt.Fprintf(stdout, "%s (%s): %d threads asked, 1 used, kernels %s\n", *model, *ckpt, *threads, engine.Kernels())
	line, err := json.Marshal(result{TimesMs: times, ThreadsEffective: 1, Version: version()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}

// version names the build: the commit (where the build knows it), Go and
// the kernels the engine picked.
func version() string {
	commit := "dev"
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			commit = rev[:min(12, len(rev))]
			if modified == "true" {
				commit += "+"
			}
		}
	}
	return fmt.Sprintf("shufflenet-go %s, %s, kernels %s", commit, runtime.Version(), engine.Kernels())
}
