package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

// modelFlags are the flags that choose a model: a weights file or a
// PyTorch checkpoint, and (where registerNoShuffle adds the flag) whether
// to run it without its channel shuffles.
type modelFlags struct {
	weights    string
	checkpoint string
	family     string
	noShuffle  bool
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.weights, "weights", "", "weights file (.safetensors) made by 'shufflenet convert' or 'shufflenet fetch'")
	fs.StringVar(&m.checkpoint, "checkpoint", "", "PyTorch checkpoint (.pth, .pth.tar) of any supported family")
	fs.StringVar(&m.family, "family", "auto", "checkpoint family: auto, seed, megvii, pytorchcv or mmpretrain")
}

// registerNoShuffle adds --no-shuffle, for the commands that run a model.
func (m *modelFlags) registerNoShuffle(fs *flag.FlagSet) {
	fs.BoolVar(&m.noShuffle, "no-shuffle", false, "run the model with every channel shuffle replaced by the identity (the paper's ablation)")
}

// given reports whether a model was named.
func (m *modelFlags) given() bool { return m.weights != "" || m.checkpoint != "" }

// familyFlag is the --family value as the importer takes it ("" for auto).
func (m *modelFlags) familyFlag() engine.Family {
	if m.family == "auto" {
		return ""
	}
	return engine.Family(m.family)
}

// load builds the network the flags name.
func (m *modelFlags) load() (*engine.Network, error) {
	switch {
	case m.weights != "" && m.checkpoint != "":
		return nil, usagef("give --weights or --checkpoint, not both")
	case m.weights != "":
		data, err := os.ReadFile(m.weights)
		if err != nil {
			return nil, err
		}
		model, err := weights.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", m.weights, err)
		}
		if m.noShuffle {
			return model.NetworkWithoutShuffle()
		}
		return model.Network()
	case m.checkpoint != "":
		data, err := os.ReadFile(m.checkpoint)
		if err != nil {
			return nil, err
		}
		model, err := checkpoint.Read(data, m.familyFlag())
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", m.checkpoint, err)
		}
		params, err := engine.Fold(model.Arch, model.Trained)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", m.checkpoint, err)
		}
		if m.noShuffle {
			return engine.NewWithoutShuffle(model.Arch, params)
		}
		return engine.New(model.Arch, params)
	}
	return nil, usagef("no model: give --weights or --checkpoint")
}
