package weights

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// This file reads a safetensors header with jsonReader rather than with
// safetensors.ReadMetadata, which decodes it through encoding/json's
// reflection (see jsonReader for why). It follows the library's rules:
// FuzzHeader checks that it accepts nothing the library rejects, and reads
// what it accepts the same way.

// tensorInfo is one tensor of a header: its dtype, shape and bytes.
type tensorInfo struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

// header is a safetensors file's header: its tensors by name and the
// string metadata.
type header struct {
	tensors  map[string]tensorInfo
	metadata map[string]string
}

// readHeader reads and checks the header of a safetensors file: a JSON
// object of tensors, each with exactly a dtype, a shape and data offsets,
// and an optional "__metadata__" object of strings. The tensors' bytes
// must follow one another, without gaps, to the end of the file.
func readHeader(data []byte) (header, error) {
	if len(data) < 8 {
		return header{}, fmt.Errorf("%d bytes, too short for a header", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader {
		return header{}, fmt.Errorf("header of %d bytes, the limit is %d", n, maxHeader)
	}
	if n > uint64(len(data)-8) {
		return header{}, fmt.Errorf("header of %d bytes in a file of %d", n, len(data))
	}
	type located struct {
		name       string
		info       tensorInfo
		begin, end uint64
	}
	var list []located
	h := header{tensors: map[string]tensorInfo{}}
	r := jsonReader{text: data[8 : 8+n]}
	err := r.object(once(func(key []byte) error {
		name := string(key)
		if name == "__metadata__" {
			md, err := readMetadata(&r)
			h.metadata = md
			return err
		}
		t, begin, end, err := readTensorInfo(&r)
		list = append(list, located{name, t, begin, end})
		return err
	}))
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	// The data must be exactly the tensors' bytes, one after another.
	slices.SortFunc(list, func(a, b located) int {
		if a.begin != b.begin {
			return cmp.Compare(a.begin, b.begin)
		}
		return cmp.Compare(a.end, b.end)
	})
	body := data[8+n:]
	at := uint64(0)
	for _, t := range list {
		size, ok := byteSize(t.info.dtype, t.info.shape)
		switch {
		case t.begin != at || t.end < t.begin:
			return header{}, fmt.Errorf("tensor %q: data offsets [%d, %d] do not follow the previous tensor's end %d", t.name, t.begin, t.end, at)
		case !ok || t.end-t.begin != size:
			return header{}, fmt.Errorf("tensor %q: data offsets [%d, %d] do not hold a %v tensor of shape %v", t.name, t.begin, t.end, t.info.dtype, t.info.shape)
		case t.end > uint64(len(body)):
			return header{}, fmt.Errorf("tensor %q: data offsets [%d, %d] run past the file's %d bytes of data", t.name, t.begin, t.end, len(body))
		}
		t.info.data = body[t.begin:t.end:t.end]
		h.tensors[t.name] = t.info
		at = t.end
	}
	if at != uint64(len(body)) {
		return header{}, fmt.Errorf("the tensors hold %d bytes, the file has %d after its header", at, len(body))
	}
	return h, nil
}

// readMetadata reads the "__metadata__" object: strings by name.
func readMetadata(r *jsonReader) (map[string]string, error) {
	md := map[string]string{}
	err := r.object(once(func(key []byte) error {
		s, err := r.string()
		md[string(key)] = string(s)
		return err
	}))
	return md, err
}

// readTensorInfo reads {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}.
func readTensorInfo(r *jsonReader) (t tensorInfo, begin, end uint64, err error) {
	var dtype, shape, offsets bool
	err = r.object(func(key []byte) error {
		switch string(key) {
		case "dtype":
			if dtype {
				return errTwice
			}
			dtype = true
			s, err := r.string()
			if err == nil {
				t.dtype, err = safetensors.ParseDType(string(s))
			}
			return err
		case "shape":
			if shape {
				return errTwice
			}
			shape = true
			var err error
			t.shape, err = readUints(r, make([]uint64, 0, 4))
			return err
		case "data_offsets":
			if offsets {
				return errTwice
			}
			offsets = true
			var o [2]uint64
			if err := readArray(r, o[:], r.uint); err != nil {
				return err
			}
			begin, end = o[0], o[1]
			return nil
		}
		return errUnknownKey
	})
	if err == nil && !(dtype && shape && offsets) {
		err = fmt.Errorf("want the keys dtype, shape and data_offsets")
	}
	return t, begin, end, err
}

// readUints reads an array of unsigned integers, appended to out (which is
// not nil: the shape of a scalar is []).
func readUints(r *jsonReader, out []uint64) ([]uint64, error) {
	err := r.array(func() error {
		u, err := r.uint()
		out = append(out, u)
		return err
	})
	return out, err
}

// byteSize is the bytes a tensor of shape and dtype takes, if that fits
// in a uint64.
func byteSize(dtype safetensors.DType, shape []uint64) (uint64, bool) {
	size := dtype.Size()
	for _, d := range shape {
		hi, lo := bits.Mul64(size, d)
		if hi != 0 {
			return 0, false
		}
		size = lo
	}
	return size, true
}
