package server

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/zoo"
)

// ModelInfo is what /api/models says about a model.
type ModelInfo struct {
	Name    string        `json:"name"`
	Family  engine.Family `json:"family"`
	Groups  int           `json:"groups"`
	Width   float64       `json:"width"`
	MACs    int64         `json:"macs"`
	Params  int64         `json:"params"`
	Top1    float64       `json:"top1,omitempty"` // reported ImageNet accuracy, percent (zoo models only)
	Top5    float64       `json:"top5,omitempty"`
	License string        `json:"license,omitempty"`
	Bytes   int           `json:"bytes"`  // size of the weights file
	SHA256  string        `json:"sha256"` // of the weights file, checked by the browser
	URL     string        `json:"url"`    // where the browser downloads the weights
	Default bool          `json:"default"`
	// Head, where the server was given one for this model, is the head
	// /api/classify answers with by default (see Config.Heads).
	Head *HeadInfo `json:"head,omitempty"`
}

// HeadInfo is what /api/models says about a model's head.
type HeadInfo struct {
	File    string   `json:"file"`    // the head file's name
	Classes []string `json:"classes"` // its classes, in output order
}

// Model is a network the server runs, with a pool of copies that share its
// weights: one per request in flight, made on demand and reused.
type Model struct {
	Info ModelInfo
	arch engine.Architecture
	base *engine.Network
	pool chan *engine.Network
	head *head.Head // nil: none
}

// headBase is what a head file must match to run on m.
func (m *Model) headBase() weights.HeadBase {
	return weights.HeadBase{Model: m.Info.Name, SHA256: m.Info.SHA256, Features: m.arch.FeatureChannels()}
}

func (m *Model) acquire() *engine.Network {
	select {
	case n := <-m.pool:
		return n
	default:
		return m.base.Clone()
	}
}

func (m *Model) release(n *engine.Network) {
	select {
	case m.pool <- n:
	default: // the pool is full: let this copy go
	}
}

// Registry is the set of models a server runs, by name.
type Registry struct {
	byName map[string]*Model
	order  []string
	def    string
}

// weightsSuffix marks the files a weights directory serves: NAME.int8.safetensors
// (or any NAME.safetensors made by 'shufflenet convert').
const weightsSuffix = ".safetensors"

// ModelName is the name a model is served under: its weights file's name
// without ".int8.safetensors" (or ".safetensors"). A head file trained by
// 'shufflenet train --weights FILE' records the same name.
func ModelName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(file, weightsSuffix), ".int8")
}

// ReadWeightsDir reads the weights files at the top of dir.
func ReadWeightsDir(dir string) (map[string][]byte, error) {
	return ReadFiles(os.DirFS(dir), weightsSuffix)
}

// ReadWeightsFS reads the weights files at the top of fsys (the files
// embedded in the Cloudflare Worker, say).
func ReadWeightsFS(fsys fs.FS) (map[string][]byte, error) {
	return ReadFiles(fsys, weightsSuffix)
}

// ReadFiles reads the regular files at the top of fsys whose names end in
// one of suffixes. Directories (the download cache), symbolic links and
// other files are skipped, so nothing outside the directory is ever read
// or served.
func ReadFiles(fsys fs.FS, suffixes ...string) (map[string][]byte, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read files: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(e.Name(), s) }) {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		files[e.Name()] = data
	}
	return files, nil
}

// LoadModels decodes weights files (by file name) and keeps up to poolSize
// idle copies of each network. A model's name is its file name without
// ".int8.safetensors" (or ".safetensors"); urlOf gives the URL the browser
// fetches a file from, given its name and SHA-256 (hex), which is computed
// once here: in WebAssembly, hashing costs half as much as decoding. The
// default model is the zoo's default if present, else the first by name.
func LoadModels(files map[string][]byte, poolSize int, urlOf func(file, sha256 string) string) (*Registry, error) {
	r := &Registry{byName: map[string]*Model{}}
	for file, data := range files {
		m, err := weights.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("weights %s: %w", file, err)
		}
		net, err := m.Network()
		if err != nil {
			return nil, fmt.Errorf("weights %s: %w", file, err)
		}
		name := ModelName(file)
		sum := digest(data)
		info := ModelInfo{
			Name: name, Family: m.Arch.Family, Groups: m.Arch.Groups, Width: m.Arch.Width,
			MACs: m.Arch.MACs(), Params: m.Arch.ParamCount(), Bytes: len(data), SHA256: sum, URL: urlOf(file, sum),
		}
		if z, err := zoo.Lookup(name); err == nil {
			info.Top1, info.Top5, info.License = z.Top1, z.Top5, z.License
		}
		r.byName[name] = &Model{Info: info, arch: m.Arch, base: net, pool: make(chan *engine.Network, poolSize)}
		r.order = append(r.order, name)
	}
	slices.Sort(r.order)
	if len(r.order) > 0 {
		r.def = r.order[0]
		if _, ok := r.byName[zoo.Default()]; ok {
			r.def = zoo.Default()
		}
		r.byName[r.def].Info.Default = true
	}
	return r, nil
}

// attachHeads decodes head files (by file name) and gives each to the
// model it was trained on: the one whose weights file has the sha256 and
// the feature count the head file records (weights.HeadFile.Matches), whatever
// the model is named here. A head that matches no model, or a second head
// for a model, is an error that names the models served.
func (r *Registry) attachHeads(files map[string][]byte) error {
	for _, file := range slices.Sorted(maps.Keys(files)) {
		f, err := weights.DecodeHead(files[file])
		if err != nil {
			return fmt.Errorf("head %s: %w", file, err)
		}
		m, err := r.matchHead(f)
		if err != nil {
			return fmt.Errorf("head %s: %w", file, err)
		}
		if m.head != nil {
			return fmt.Errorf("head %s: model %s already has the head %s: give one head per model", file, m.Info.Name, m.Info.Head.File)
		}
		m.head = f.Head
		m.Info.Head = &HeadInfo{File: file, Classes: f.Head.Classes}
	}
	return nil
}

// matchHead returns the model a head file was trained on.
func (r *Registry) matchHead(f weights.HeadFile) (*Model, error) {
	served := make([]string, 0, len(r.order))
	for _, name := range r.order {
		m := r.byName[name]
		if f.Matches(m.headBase()) == nil {
			return m, nil
		}
		served = append(served, fmt.Sprintf("%s (sha256 %.12s…, %d features)", name, m.Info.SHA256, m.arch.FeatureChannels()))
	}
	if len(served) == 0 {
		served = append(served, "none")
	}
	return nil, fmt.Errorf("%w: it was trained on %s (sha256 %.12s…, %d features), and the models served are %s",
		weights.ErrHeadMismatch, f.Base.Model, f.Base.SHA256, f.Base.Features, strings.Join(served, ", "))
}

// Get returns a model by name; "" means the default.
func (r *Registry) Get(name string) (*Model, bool) {
	if name == "" {
		name = r.def
	}
	m, ok := r.byName[name]
	return m, ok
}

// Infos lists every model, default first.
func (r *Registry) Infos() []ModelInfo {
	out := []ModelInfo{}
	for _, n := range r.order {
		out = append(out, r.byName[n].Info)
	}
	slices.SortStableFunc(out, func(a, b ModelInfo) int {
		switch {
		case a.Default == b.Default:
			return 0
		case a.Default:
			return -1
		}
		return 1
	})
	return out
}
