package weights

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nlpodyssey/safetensors"
	"github.com/valyala/fastjson"
)

// This file reads a safetensors header with fastjson rather than with
// safetensors.ReadMetadata. Both follow the same rules (FuzzHeader checks
// that this reader accepts nothing the library rejects, and reads what it
// accepts the same way), but the library decodes the header through
// encoding/json into a map of maps, and in a browser that reflection is
// most of a model's first load: running it for the first time cost the
// worker about 50 ms of lazily compiled code, and V8 then spent about
// 200 ms of CPU recompiling encoding/json's hot functions with its
// optimizing compiler, on a machine the first prediction keeps busy.

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
	if n > maxHeader || n > uint64(len(data)-8) {
		return header{}, fmt.Errorf("header of %d bytes in a file of %d", n, len(data))
	}
	text := data[8 : 8+n]
	if err := validateJSON(text); err != nil {
		return header{}, fmt.Errorf("header: %v", err)
	}
	var p fastjson.Parser
	root, err := p.ParseBytes(text)
	if err != nil {
		return header{}, fmt.Errorf("header: %v", err)
	}
	type located struct {
		name       string
		info       tensorInfo
		begin, end uint64
	}
	var list []located
	h := header{tensors: map[string]tensorInfo{}}
	err = eachField(root, func(name string, v *fastjson.Value) error {
		if name == "__metadata__" {
			md, err := readMetadata(v)
			h.metadata = md
			return err
		}
		t, begin, end, err := readTensorInfo(v)
		if err != nil {
			return err
		}
		list = append(list, located{name, t, begin, end})
		return nil
	})
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

// validateJSON holds text to the JSON grammar as encoding/json reads it.
// fastjson's parser alone is lenient (leading zeros, bad escapes), and
// its validator still lets control characters into strings and leaves
// an unpaired UTF-16 surrogate escape as it is, where encoding/json
// would read U+FFFD: those are errors here.
func validateJSON(text []byte) error {
	if err := fastjson.ValidateBytes(text); err != nil {
		return err
	}
	inString, escaped, pairEnd := false, false, -1
	for i, c := range text {
		switch {
		case !inString:
			inString = c == '"'
		case escaped:
			escaped = false
			if c != 'u' {
				continue
			}
			// The validator has checked that 4 hex digits follow.
			switch r := hex4(text[i+1:]); {
			case utf16.IsSurrogate(r) && r < 0xdc00 && bytes.HasPrefix(text[i+5:], []byte(`\u`)) && isLowSurrogate(hex4(text[i+7:])):
				pairEnd = i + 6 // the second half's 'u'
			case utf16.IsSurrogate(r) && i != pairEnd:
				return fmt.Errorf("unpaired surrogate \\u%04x in a string at byte %d", r, i-1)
			}
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c < 0x20:
			return fmt.Errorf("control character %q in a string at byte %d", c, i)
		}
	}
	return nil
}

// hex4 reads the 4 hex digits that begin b as a UTF-16 code unit.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

func isLowSurrogate(r rune) bool { return r >= 0xdc00 && r < 0xe000 }

// readMetadata reads the "__metadata__" object: strings by name.
func readMetadata(v *fastjson.Value) (map[string]string, error) {
	md := map[string]string{}
	err := eachField(v, func(key string, v *fastjson.Value) error {
		s, err := readString(v)
		md[key] = s
		return err
	})
	return md, err
}

// readTensorInfo reads {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}.
func readTensorInfo(v *fastjson.Value) (t tensorInfo, begin, end uint64, err error) {
	seen := 0
	err = eachField(v, func(key string, v *fastjson.Value) error {
		seen++
		switch key {
		case "dtype":
			s, err := readString(v)
			if err == nil {
				t.dtype, err = safetensors.ParseDType(s)
			}
			return err
		case "shape":
			t.shape, err = readUints(v, -1)
			if t.shape == nil {
				t.shape = []uint64{} // a scalar
			}
			return err
		case "data_offsets":
			offsets, err := readUints(v, 2)
			if err == nil {
				begin, end = offsets[0], offsets[1]
			}
			return err
		}
		return errUnknownKey
	})
	if err == nil && seen != 3 {
		err = fmt.Errorf("want the keys dtype, shape and data_offsets, got %d keys", seen)
	}
	return t, begin, end, err
}

// errUnknownKey is the error for a key the format does not have.
var errUnknownKey = errors.New("unknown key")

// eachField calls f with each key and value of a JSON object, in order,
// and names the key in f's error; a key given twice is an error, as JSON
// leaves its meaning open.
func eachField(v *fastjson.Value, f func(key string, v *fastjson.Value) error) error {
	o, err := v.Object()
	if err != nil {
		return err
	}
	seen := make(map[string]bool, o.Len())
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		key := string(k)
		switch {
		case !utf8.ValidString(key):
			err = fmt.Errorf("key %q is not UTF-8", key)
		case seen[key]:
			err = fmt.Errorf("key %q given twice", key)
		default:
			seen[key] = true
			if e := f(key, v); e != nil {
				err = fmt.Errorf("%q: %w", key, e)
			}
		}
	})
	return err
}

// readString reads a JSON string, which must be valid UTF-8.
func readString(v *fastjson.Value) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%q is not UTF-8", b)
	}
	return string(b), nil
}

// readUints reads an array of unsigned integers, of length n unless n < 0.
func readUints(v *fastjson.Value, n int) ([]uint64, error) {
	items, err := v.Array()
	if err != nil {
		return nil, err
	}
	if n >= 0 && len(items) != n {
		return nil, fmt.Errorf("%d values, want %d", len(items), n)
	}
	var out []uint64
	for _, item := range items {
		u, err := item.Uint64()
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
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
