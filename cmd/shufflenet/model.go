package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/server"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
	"github.com/shufflenet-go/shufflenet/weights/zoo"
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
	net, _, err := m.loadWithBase()
	return net, err
}

// loadWithBase builds the network the flags name and says which it is, as
// a head file records it (weights.HeadBase): the name the server would list
// it under, the sha256 of the file's bytes (a checkpoint's, for
// --checkpoint, so that a head trained on one matches that checkpoint
// only) and its feature count.
func (m *modelFlags) loadWithBase() (*engine.Network, weights.HeadBase, error) {
	var (
		net  *engine.Network
		base weights.HeadBase
		err  error
	)
	switch {
	case m.weights != "" && m.checkpoint != "":
		return nil, base, usagef("give --weights or --checkpoint, not both")
	case m.weights != "":
		net, base, err = m.loadWeights()
	case m.checkpoint != "":
		net, base, err = m.loadCheckpoint()
	default:
		return nil, base, usagef("no model: give --weights or --checkpoint")
	}
	if err != nil {
		return nil, base, err
	}
	base.Features = net.Architecture().FeatureChannels()
	return net, base, nil
}

func (m *modelFlags) loadWeights() (*engine.Network, weights.HeadBase, error) {
	data, err := os.ReadFile(m.weights)
	if err != nil {
		return nil, weights.HeadBase{}, err
	}
	base := weights.HeadBase{Model: server.ModelName(filepath.Base(m.weights)), SHA256: sha256Hex(data)}
	model, err := weights.Decode(data)
	if err != nil {
		return nil, base, fmt.Errorf("load %s: %w", m.weights, err)
	}
	var net *engine.Network
	if m.noShuffle {
		net, err = model.NetworkWithoutShuffle()
	} else {
		net, err = model.Network()
	}
	return net, base, err
}

func (m *modelFlags) loadCheckpoint() (*engine.Network, weights.HeadBase, error) {
	data, err := os.ReadFile(m.checkpoint)
	if err != nil {
		return nil, weights.HeadBase{}, err
	}
	base := weights.HeadBase{Model: checkpointModelName(filepath.Base(m.checkpoint)), SHA256: sha256Hex(data)}
	model, err := checkpoint.Read(data, m.familyFlag())
	if err != nil {
		return nil, base, fmt.Errorf("load %s: %w", m.checkpoint, err)
	}
	params, err := engine.Fold(model.Arch, model.Trained)
	if err != nil {
		return nil, base, fmt.Errorf("load %s: %w", m.checkpoint, err)
	}
	var net *engine.Network
	if m.noShuffle {
		net, err = engine.NewWithoutShuffle(model.Arch, params)
	} else {
		net, err = engine.New(model.Arch, params)
	}
	return net, base, err
}

// checkpointModelName names a checkpoint file for a head file: the zoo's
// name for a zoo checkpoint (megvii-g3-0.5x for
// megvii-shufflenetv1-g3-0.5x.pth.tar, the name its converted weights file
// is served under), otherwise the file's name without ".pth.tar", ".pth"
// or ".tar".
func checkpointModelName(file string) string {
	for _, e := range zoo.Models() {
		if e.File == file {
			return e.Name
		}
	}
	for _, ext := range []string{".pth.tar", ".pth", ".tar"} {
		if name, ok := strings.CutSuffix(file, ext); ok && name != "" {
			return name
		}
	}
	return file
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
