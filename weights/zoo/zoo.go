// Package zoo lists the published ShuffleNet V1 checkpoints the project
// can serve, and fetches them: from a local cache, from a directory of
// copies, or from their public address, always verifying size and
// checksum before use.
package zoo

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/shufflenet-go/shufflenet/engine"
)

// Entry is one model of the zoo.
type Entry struct {
	Name   string        `json:"name"`
	Family engine.Family `json:"family"`
	Groups int           `json:"groups"`
	Width  float64       `json:"width"`
	MACs   int64         `json:"macs"`
	Params int64         `json:"params"`
	// Top1 and Top5 are the reported ImageNet-1k accuracies, in percent.
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	License string  `json:"license"`
	// URL is the checkpoint's public address; Archive is "zip" when the
	// download is a zip holding File.
	URL     string `json:"url"`
	Archive string `json:"archive,omitempty"`
	// File is the checkpoint's file name; Bytes its size (0: not published).
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
	// Checksum is "sha256:<hex>", "sha1:<hex>" or "sha256-prefix:<hex>" of File.
	Checksum string `json:"checksum"`
}

// Architecture is the network the entry's checkpoint holds.
func (e Entry) Architecture() (engine.Architecture, error) {
	switch e.Family {
	case engine.Megvii:
		return engine.MegviiArchitecture(e.Groups, e.Width)
	case engine.Pytorchcv:
		return engine.PytorchcvArchitecture(e.Groups, e.Width)
	case engine.MMPretrain:
		return engine.MMPretrainArchitecture(e.Groups)
	case engine.Seed:
		return engine.SeedArchitecture(e.Groups)
	}
	return engine.Architecture{}, fmt.Errorf("zoo entry %s: unknown family %q", e.Name, e.Family)
}

// WeightsFile is the name of the entry's converted int8 weights file.
func (e Entry) WeightsFile() string { return e.Name + ".int8.safetensors" }

//go:embed models.json
var manifestJSON []byte

type manifest struct {
	Default string  `json:"default"`
	Models  []Entry `json:"models"`
}

var load = sync.OnceValues(func() (manifest, error) {
	var m manifest
	err := json.Unmarshal(manifestJSON, &m)
	return m, err
})

// Models returns every zoo entry, in manifest order.
func Models() []Entry {
	m, err := load()
	if err != nil {
		panic("zoo: embedded models.json: " + err.Error()) // a build defect, caught by the tests
	}
	return append([]Entry(nil), m.Models...)
}

// Default is the name of the model a fresh install fetches and serves.
func Default() string {
	m, _ := load()
	return m.Default
}

// Lookup finds an entry by name.
func Lookup(name string) (Entry, error) {
	for _, e := range Models() {
		if e.Name == name {
			return e, nil
		}
	}
	var names []string
	for _, e := range Models() {
		names = append(names, e.Name)
	}
	return Entry{}, fmt.Errorf("no model %q in the zoo (known: %v)", name, names)
}
