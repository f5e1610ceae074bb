// Command shufflenet runs ShuffleNet V1 image classification natively:
// classify photos, run raw tensors, print a model's layer table, convert
// checkpoints to weights files, fetch zoo models, train a head of one's
// own classes on a model's features, and serve the web demo or export it
// for a static host.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: its one-line description and its body, which
// parses its own flags from args.
type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"classify": {"classify images: top-k labels, probabilities and time", runClassify},
	"logits":   {"run a raw 1x3xSxS .npy tensor and write the logits (or a stage's output) as .npy", runLogits},
	"summary":  {"print a model's layer table: output shapes, parameters, MACs", runSummary},
	"convert":  {"convert a PyTorch checkpoint into a weights file (int8, f16 or f32)", runConvert},
	"fetch":    {"fetch a zoo model's checkpoint, verify it and convert it to int8", runFetch},
	"serve":    {"serve the web demo, its weights and /api/classify", runServe},
	"train":    {"train a head of your own classes, from a folder of image folders, on a model's features", runTrain},
	"export":   {"write the web demo and its weights to a folder for a static host", runExport},
	"version":  {"print the version, commit, Go version and the kernels this machine runs", runVersion},
}

func main() {
	err := run(os.Args[1:], os.Stdout)
	var usage usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "shufflenet:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "shufflenet:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return usagef("unknown command %q (run 'shufflenet help')", args[0])
	}
	return cmd.run(args[1:], stdout)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: shufflenet <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'shufflenet <command> -h' for a command's flags.")
}

// parseFlags parses a subcommand's flags, sending -h output and flag errors
// to stderr and turning bad flags into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
