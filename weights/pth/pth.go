// Package pth reads the tensors of a PyTorch checkpoint (torch.save of a
// state dict, in the zip format or the legacy one) from bytes.
//
// It uses github.com/nlpodyssey/gopickle for the pickle machine and the
// storage classes, and adds what reading untrusted files needs: it works
// from bytes (there is no file system in a browser), checks the format's
// magic first, scans every pickle before unpickling it so that no length
// field can make it allocate more than the file holds, bounds every
// storage by the bytes really present, and turns panics into errors.
package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// Tensor is one tensor of a state dict. Floating-point tensors (float32,
// float16, bfloat16, float64) are converted to float32 in Data; other
// dtypes keep Data nil (ShuffleNet only has int64 num_batches_tracked).
type Tensor struct {
	Shape []int
	DType string
	Data  []float32
}

// Len is the number of elements.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// StateDict is a checkpoint's named tensors, in file order.
type StateDict struct {
	Names   []string
	Tensors map[string]Tensor
	// Wrapped is the key the state dict was found under ("state_dict"), or
	// "" when the file holds the state dict itself.
	Wrapped string
}

var (
	zipMagic    = []byte("PK\x03\x04")
	legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a} // pickle protocol 2, then LONG1 of 10 bytes: the magic number
)

// ErrFormat is wrapped by every error about a file that is not a PyTorch checkpoint.
var ErrFormat = errors.New("not a PyTorch checkpoint")

// Read parses a checkpoint. It accepts a state dict saved directly or
// wrapped in a dict under "state_dict" (Megvii's and mmcv's checkpoints),
// whose other entries (mmcv's "meta") are skipped whatever they hold.
func Read(data []byte) (sd *StateDict, err error) {
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("corrupt checkpoint: %v", r)
		}
	}()
	var obj any
	switch {
	case bytes.HasPrefix(data, zipMagic):
		obj, err = readZip(data)
	case bytes.HasPrefix(data, legacyMagic):
		obj, err = readLegacy(data)
	case len(data) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: it starts with % x, not a zip archive (PK\\x03\\x04) or a legacy torch.save (80 02 8a 0a)", ErrFormat, data[:min(len(data), 4)])
	}
	if err != nil {
		return nil, err
	}
	return stateDict(obj)
}

// readZip reads torch.save's zip format: <name>/data.pkl holds the pickle,
// <name>/data/<key> each storage's raw little-endian bytes.
func readZip(data []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	records := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		records[f.Name] = f
		switch path.Base(f.Name) {
		case "data.pkl":
			pkl = f
		case "constants.pkl":
			return nil, fmt.Errorf("%w: this is a TorchScript archive; save the model's state_dict() instead", ErrFormat)
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%w: the zip archive has no data.pkl", ErrFormat)
	}
	dir := path.Dir(pkl.Name)
	program, err := readRecord(pkl, pkl.UncompressedSize64, int64(len(data)))
	if err != nil {
		return nil, err
	}
	storages := map[string]pytorch.StorageInterface{}
	// torch.save stores records uncompressed, so all storages together fit
	// in the archive; like readRecord, allow modest deflate ratios, but in
	// total: 500 records of 4 MB of zeros each fit in a 3 MB archive.
	budget := 4 * uint64(len(data))
	load := func(id any) (any, error) {
		class, key, numel, err := storageID(id, 5, len(data))
		if err != nil {
			return nil, err
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		f, ok := records[dir+"/data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage %q: no record %s/data/%s in the archive", key, dir, key)
		}
		size := uint64(numel) * uint64(elementSize(class))
		if size > budget {
			return nil, fmt.Errorf("storage %q: %d bytes more would make the storages larger than 4 times this %d-byte archive", key, size, len(data))
		}
		budget -= size
		raw, err := readRecord(f, size, int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		s := class.New(numel, "cpu")
		if err := s.SetFromFileWithSize(bytes.NewReader(raw), numel); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		storages[key] = s
		return s, nil
	}
	return unpickle(program, load)
}

// readRecord reads a zip record that must hold at least want bytes. The
// read is bounded by want and by the archive's own size, so a record that
// claims to be huge (or inflates to more than it claims) costs nothing.
func readRecord(f *zip.File, want uint64, archiveSize int64) ([]byte, error) {
	if f.UncompressedSize64 < want {
		return nil, fmt.Errorf("record %s holds %d bytes, want %d", f.Name, f.UncompressedSize64, want)
	}
	if want > uint64(archiveSize)*4 { // stored records can't exceed the archive; allow modest deflate ratios
		return nil, fmt.Errorf("record %s: %d bytes is more than this archive can hold", f.Name, want)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %v", f.Name, err)
	}
	defer rc.Close()
	buf := make([]byte, want)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("record %s: %v", f.Name, err)
	}
	return buf, nil
}

// readLegacy reads torch.save's legacy format: five pickles (magic number,
// protocol version, system info, the object, the storage keys), then each
// storage as an int64 element count followed by its raw bytes.
func readLegacy(data []byte) (any, error) {
	pos := 0
	next := func(what string, load func(any) (any, error)) (any, error) {
		n, err := scanPickle(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		obj, err := unpickle(data[pos:pos+n], load)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		pos += n
		return obj, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if n, ok := magic.(*big.Int); !ok || n.Text(16) != "1950a86a20f9469cfc6c" {
		return nil, fmt.Errorf("%w: wrong magic number %v", ErrFormat, magic)
	}
	if v, err := next("protocol version", nil); err != nil {
		return nil, err
	} else if v != 1001 {
		return nil, fmt.Errorf("%w: unsupported protocol version %v", ErrFormat, v)
	}
	if _, err := next("system info", nil); err != nil {
		return nil, err
	}

	type pending struct {
		storage pytorch.StorageInterface
		numel   int
		size    int // bytes per element
	}
	storages := map[string]*pending{}
	obj, err := next("state dict", func(id any) (any, error) {
		class, key, numel, err := storageID(id, 6, len(data))
		if err != nil {
			return nil, err
		}
		if view := id.(*types.Tuple).Get(5); view != nil {
			return nil, fmt.Errorf("storage %q: storage views are not supported", key)
		}
		if p, ok := storages[key]; ok {
			return p.storage, nil
		}
		p := &pending{storage: class.New(numel, "cpu"), numel: numel, size: elementSize(class)}
		storages[key] = p
		return p.storage, nil
	})
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("%w: storage keys are a %T, not a list", ErrFormat, keysObj)
	}
	for _, k := range *keys {
		key, _ := k.(string)
		p, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("storage key %v is not used by any tensor", k)
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("storage %q: truncated file (no element count at offset %d)", key, pos)
		}
		count := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		if count != uint64(p.numel) {
			return nil, fmt.Errorf("storage %q: %d elements in the file, %d in the pickle", key, count, p.numel)
		}
		n := p.numel * p.size
		if n > len(data)-pos {
			return nil, fmt.Errorf("storage %q: truncated file (%d bytes needed at offset %d, %d left)", key, n, pos, len(data)-pos)
		}
		if err := p.storage.SetFromFileWithSize(bytes.NewReader(data[pos:pos+n]), p.numel); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		pos += n
		delete(storages, key)
	}
	for key := range storages {
		return nil, fmt.Errorf("storage %q has no data in the file", key)
	}
	return obj, nil
}

// storageID decodes a persistent id ('storage', StorageClass, key,
// location, numel, ...) with at least minLen entries. A storage of more
// elements than a file of fileSize bytes can hold is refused before anything
// multiplies or allocates with its size.
func storageID(id any, minLen, fileSize int) (pytorch.StorageClassInterface, string, int, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < minLen {
		return nil, "", 0, fmt.Errorf("persistent id %v: want a tuple of %d entries", id, minLen)
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		return nil, "", 0, fmt.Errorf("persistent id of kind %v: only storages are supported", t.Get(0))
	}
	class, ok1 := t.Get(1).(pytorch.StorageClassInterface)
	key, ok2 := t.Get(2).(string)
	numel, ok3 := t.Get(4).(int)
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return nil, "", 0, fmt.Errorf("persistent id %v: malformed storage reference", id)
	}
	if numel > fileSize {
		return nil, "", 0, fmt.Errorf("storage %q: %d elements cannot fit in a file of %d bytes", key, numel, fileSize)
	}
	return class, key, numel, nil
}

// unpickle runs one pickle that scanPickle has already checked.
func unpickle(program []byte, load func(any) (any, error)) (any, error) {
	if _, err := scanPickle(program); err != nil {
		return nil, err
	}
	u := pickle.NewUnpickler(bytes.NewReader(program))
	u.FindClass = findClass
	if load != nil {
		u.PersistentLoad = load
	} else {
		u.PersistentLoad = func(id any) (any, error) { return nil, fmt.Errorf("unexpected persistent id %v", id) }
	}
	return u.Load()
}

// stateDict finds the state dict in a checkpoint's top-level object and
// converts its tensors.
func stateDict(obj any) (*StateDict, error) {
	sd := &StateDict{Tensors: map[string]Tensor{}}
	if inner, ok := lookup(obj, "state_dict"); ok {
		obj, sd.Wrapped = inner, "state_dict"
	}
	err := forEach(obj, func(key any, value any) error {
		name, ok := key.(string)
		if !ok {
			return fmt.Errorf("state dict key %v is a %T, not a string", key, key)
		}
		t, ok := value.(*pytorch.Tensor)
		if !ok {
			return fmt.Errorf("state dict entry %q is a %T, not a tensor", name, value)
		}
		tensor, err := convert(t)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		if _, dup := sd.Tensors[name]; !dup {
			sd.Names = append(sd.Names, name)
		}
		sd.Tensors[name] = tensor
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(sd.Names) == 0 {
		return nil, fmt.Errorf("%w: no tensors found", ErrFormat)
	}
	return sd, nil
}

// lookup returns d[key] for a pickled dict or OrderedDict.
func lookup(d any, key string) (any, bool) {
	switch d := d.(type) {
	case *types.Dict:
		return d.Get(key)
	case *types.OrderedDict:
		return d.Get(key)
	}
	return nil, false
}

// forEach calls f for each entry of a pickled dict or OrderedDict, in order.
func forEach(d any, f func(key, value any) error) error {
	switch d := d.(type) {
	case *types.Dict:
		for _, e := range *d {
			if err := f(e.Key, e.Value); err != nil {
				return err
			}
		}
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := f(entry.Key, entry.Value); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: the checkpoint holds a %T, not a state dict", ErrFormat, d)
	}
	return nil
}

// convert copies a tensor's elements out of its storage, checking that its
// view lies inside the storage and is contiguous.
func convert(t *pytorch.Tensor) (Tensor, error) {
	if len(t.Stride) != len(t.Size) {
		return Tensor{}, fmt.Errorf("%d sizes but %d strides", len(t.Size), len(t.Stride))
	}
	numel := 1
	for _, d := range t.Size {
		if d < 0 || (d > 0 && numel > (1<<40)/d) {
			return Tensor{}, fmt.Errorf("bad shape %v", t.Size)
		}
		numel *= d
	}
	expected := 1
	for i := len(t.Size) - 1; i >= 0; i-- {
		if t.Size[i] != 1 && t.Stride[i] != expected {
			return Tensor{}, fmt.Errorf("not contiguous (shape %v, strides %v)", t.Size, t.Stride)
		}
		expected *= t.Size[i]
	}
	out := Tensor{Shape: append([]int(nil), t.Size...)}
	span := func(n int) (int, int, error) {
		if t.StorageOffset < 0 || t.StorageOffset > n || numel > n-t.StorageOffset {
			return 0, 0, fmt.Errorf("view [%d, %d+%d) lies outside its storage of %d elements", t.StorageOffset, t.StorageOffset, numel, n)
		}
		return t.StorageOffset, t.StorageOffset + numel, nil
	}
	var err error
	var lo, hi int
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		out.DType = "float32"
		if lo, hi, err = span(len(s.Data)); err == nil {
			out.Data = append([]float32(nil), s.Data[lo:hi]...)
		}
	case *pytorch.HalfStorage:
		out.DType = "float16"
		if lo, hi, err = span(len(s.Data)); err == nil {
			out.Data = append([]float32(nil), s.Data[lo:hi]...)
		}
	case *pytorch.BFloat16Storage:
		out.DType = "bfloat16"
		if lo, hi, err = span(len(s.Data)); err == nil {
			out.Data = append([]float32(nil), s.Data[lo:hi]...)
		}
	case *pytorch.DoubleStorage:
		out.DType = "float64"
		if lo, hi, err = span(len(s.Data)); err == nil {
			out.Data = make([]float32, numel)
			for i, v := range s.Data[lo:hi] {
				out.Data[i] = float32(v)
			}
		}
	case *pytorch.LongStorage:
		out.DType = "int64"
		_, _, err = span(len(s.Data))
	default:
		out.DType = strings.TrimPrefix(fmt.Sprintf("%T", s), "*pytorch.")
	}
	return out, err
}

// elementSize is the byte size of one element of a storage class.
func elementSize(c pytorch.StorageClassInterface) int {
	switch c.(type) {
	case *pytorch.DoubleStorageClass, *pytorch.LongStorageClass:
		return 8
	case *pytorch.FloatStorageClass, *pytorch.IntStorageClass:
		return 4
	case *pytorch.HalfStorageClass, *pytorch.BFloat16StorageClass, *pytorch.ShortStorageClass:
		return 2
	default:
		return 1
	}
}
