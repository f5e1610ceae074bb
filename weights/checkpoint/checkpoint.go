// Package checkpoint imports ShuffleNet V1 checkpoints of every supported
// family (seed, Megvii, pytorchcv, mmpretrain) into the engine's model
// description and trained layers. It recognises the family from the key
// names and the groups and widths from the tensor shapes.
package checkpoint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights/pth"
)

// Model is an imported checkpoint.
type Model struct {
	Arch    engine.Architecture
	Trained engine.Trained
}

// Read parses a PyTorch checkpoint and imports it. family may be "" to
// recognise it from the key names.
func Read(data []byte, family engine.Family) (*Model, error) {
	sd, err := pth.Read(data)
	if err != nil {
		return nil, err
	}
	return Import(sd, family)
}

// Import maps a state dict onto a ShuffleNet V1. family may be "" to
// recognise it from the key names.
func Import(sd *pth.StateDict, family engine.Family) (*Model, error) {
	keys := newKeySet(sd)
	if family == "" {
		f, err := detectFamily(keys)
		if err != nil {
			return nil, err
		}
		family = f
	}
	l, ok := layouts[family]
	if !ok {
		return nil, fmt.Errorf("unknown family %q (known: seed, megvii, pytorchcv, mmpretrain)", family)
	}
	arch, err := l.architecture(family, keys)
	if err != nil {
		return nil, fmt.Errorf("%s checkpoint: %w", family, err)
	}
	trained, err := l.trained(arch, keys)
	if err != nil {
		return nil, fmt.Errorf("%s checkpoint: %w", family, err)
	}
	if unused := keys.unused(); len(unused) > 0 {
		return nil, fmt.Errorf("%s checkpoint: %d unexpected tensors, such as %q: is this the right family?", family, len(unused), unused[0])
	}
	if err := trained.Check(arch); err != nil {
		return nil, fmt.Errorf("%s checkpoint: %w", family, err)
	}
	return &Model{Arch: arch, Trained: trained}, nil
}

// keySet is a state dict's tensors by name (with a DataParallel "module."
// prefix removed), remembering which ones the import used.
type keySet struct {
	tensors map[string]pth.Tensor
	names   []string
	used    map[string]bool
}

func newKeySet(sd *pth.StateDict) *keySet {
	k := &keySet{tensors: map[string]pth.Tensor{}, used: map[string]bool{}}
	strip := len(sd.Names) > 0
	for _, n := range sd.Names {
		strip = strip && strings.HasPrefix(n, "module.")
	}
	for _, n := range sd.Names {
		if _, ok := sd.Tensors[n]; !ok {
			continue
		}
		name := n
		if strip {
			name = strings.TrimPrefix(n, "module.")
		}
		k.tensors[name] = sd.Tensors[n]
		k.names = append(k.names, name)
	}
	return k
}

func (k *keySet) has(name string) bool {
	_, ok := k.tensors[name]
	return ok
}

// shape returns a tensor's shape without marking it used.
func (k *keySet) shape(name string) ([]int, error) {
	t, ok := k.tensors[name]
	if !ok {
		return nil, fmt.Errorf("missing tensor %q", name)
	}
	return t.Shape, nil
}

// take returns a float tensor's values after checking its shape.
func (k *keySet) take(name string, shape ...int) ([]float32, error) {
	t, ok := k.tensors[name]
	if !ok {
		return nil, fmt.Errorf("missing tensor %q", name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("tensor %q has shape %v, want %v", name, t.Shape, shape)
	}
	if t.Data == nil {
		return nil, fmt.Errorf("tensor %q has dtype %s, want a floating-point type", name, t.DType)
	}
	k.used[name] = true
	return t.Data, nil
}

// unused lists tensors the import did not take, ignoring batch norms'
// num_batches_tracked counters.
func (k *keySet) unused() []string {
	var out []string
	for _, n := range k.names {
		if !k.used[n] && !strings.HasSuffix(n, ".num_batches_tracked") {
			out = append(out, n)
		}
	}
	return out
}

func detectFamily(k *keySet) (engine.Family, error) {
	var found []engine.Family
	for _, f := range engine.Families {
		if k.has(layouts[f].stem.weight) {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		var stems []string
		for _, f := range engine.Families {
			stems = append(stems, fmt.Sprintf("%s (%s)", layouts[f].stem.weight, f))
		}
		first := "no tensors"
		if len(k.names) > 0 {
			first = fmt.Sprintf("%q", k.names[0])
		}
		return "", fmt.Errorf("cannot tell the checkpoint's family: its first tensor is %s, expected one of %s; pass the family explicitly",
			first, strings.Join(stems, ", "))
	}
	return found[0], nil
}
