package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

// modelFlags are the flags that choose a model.
type modelFlags struct {
	checkpoint string
	family     string
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.checkpoint, "checkpoint", "", "PyTorch checkpoint (.pth, .pth.tar) of any supported family")
	fs.StringVar(&m.family, "family", "auto", "checkpoint family: auto, seed, megvii, pytorchcv or mmpretrain")
}

// load builds the network the flags name.
func (m *modelFlags) load() (*engine.Network, error) {
	if m.checkpoint == "" {
		return nil, usagef("no model: give --checkpoint")
	}
	family := engine.Family(m.family)
	if m.family == "auto" {
		family = ""
	}
	data, err := os.ReadFile(m.checkpoint)
	if err != nil {
		return nil, err
	}
	model, err := checkpoint.Read(data, family)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", m.checkpoint, err)
	}
	params, err := engine.Fold(model.Arch, model.Trained)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", m.checkpoint, err)
	}
	return engine.New(model.Arch, params)
}
