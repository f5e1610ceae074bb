package weights

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

// file is a safetensors file with the given header text and data.
func file(headerText string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(headerText)))
	return append(append(out, headerText...), data...)
}

// sameAsLibrary fails unless readHeader and safetensors.ReadMetadata read
// data alike: whatever readHeader accepts the library accepts, with the
// same tensors and metadata. (readHeader may reject more: duplicate keys,
// text that is not UTF-8, a trailing value after the header.)
func sameAsLibrary(t *testing.T, data []byte) (accepted bool) {
	t.Helper()
	h, err := readHeader(data)
	if err != nil {
		return false
	}
	n, lib, libErr := safetensors.ReadMetadata(data)
	if libErr != nil {
		t.Fatalf("readHeader accepts what safetensors rejects (%v)", libErr)
	}
	if md := lib.Metadata(); !maps.Equal(md, h.metadata) {
		t.Fatalf("metadata %q, safetensors reads %q", h.metadata, md)
	}
	want := lib.Tensors()
	if len(want) != len(h.tensors) {
		t.Fatalf("%d tensors, safetensors reads %d", len(h.tensors), len(want))
	}
	body := data[8+n:]
	for name, w := range want {
		got, ok := h.tensors[name]
		switch {
		case !ok:
			t.Fatalf("tensor %q missing", name)
		case got.dtype != w.DType || !slices.Equal(got.shape, w.Shape):
			t.Fatalf("tensor %q: %v %v, safetensors reads %v %v", name, got.dtype, got.shape, w.DType, w.Shape)
		case !bytes.Equal(got.data, body[w.DataOffsets[0]:w.DataOffsets[1]]):
			t.Fatalf("tensor %q: other bytes than safetensors reads", name)
		}
	}
	return true
}

func TestReadHeaderMatchesLibrary(t *testing.T) {
	for _, dt := range []DType{Int8, Float16, Float32} {
		if !sameAsLibrary(t, encodeTiny(t, dt)) {
			_, err := readHeader(encodeTiny(t, dt))
			t.Fatalf("%s: rejected an encoded file: %v", dt, err)
		}
	}
	// JSON as other writers may lay it out: whitespace between tokens
	// and as padding, escapes (a surrogate pair among them), keys in
	// another order, raw UTF-8, a scalar, an empty tensor.
	other := file(" {\n\"__metadata__\" : {\"note\":\"caf\u00e9 \\\"\\u00e9\\\" \\ud83d\\ude00\\/\\t\"},"+
		"\"\\u0061\\n\" : {\"shape\" : [ 2 ] , \"data_offsets\":[0, 2],\"dtype\":\"U8\"},"+
		"\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[2,6]},"+
		"\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[6,6]}\t}   ", make([]byte, 6))
	if !sameAsLibrary(t, other) {
		_, err := readHeader(other)
		t.Fatalf("rejected %q: %v", other[8:], err)
	}
}

func TestReadHeaderRejects(t *testing.T) {
	eight := make([]byte, 8)
	for _, c := range []struct {
		name, header string
		data         []byte
		want         string
	}{
		{"duplicate tensor", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight, "twice"},
		{"duplicate key", `{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight, "twice"},
		{"unknown key", `{"a":{"dtype":"F32","shape":[2],"offsets":[0,8]}}`, eight, "unknown key"},
		{"missing key", `{"a":{"dtype":"F32","shape":[2]}}`, eight, "want the keys"},
		{"leading zero", `{"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}}`, eight, "JSON"},
		{"fraction", `{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, eight, "fraction"},
		{"negative", `{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight, "unsigned"},
		{"bad escape", `{"a\q":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight, "escape"},
		{"not UTF-8", "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight, "UTF-8"},
		{"trailing value", `{} {}`, nil, "tail"},
		{"metadata not strings", `{"__metadata__":{"k":1}}`, nil, "__metadata__"},
		{"unknown dtype", `{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, eight, "dtype"},
		{"gap", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight, "follow"},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight, "shape"},
		{"overflowing shape", `{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, eight, "shape"},
		{"data left over", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight, "after its header"},
		{"data missing", `{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight, "run past"},
		{"unpaired surrogate", `{"a\ud800":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight, "surrogate"},
		{"low surrogate first", `{"a\udc00\ud800":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight, "surrogate"},
		{"short \\u escape", `{"a\u12":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight, "hex"},
		{"control character", "{\"a\tb\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight, "control"},
		{"unterminated string", `{"a`, nil, "does not end"},
		{"overflowing number", `{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}`, eight, "overflows"},
		{"null", `{"a":null}`, nil, "want '{'"},
		{"trailing comma", `{"a":{"dtype":"F32","shape":[2,],"data_offsets":[0,8]}}`, eight, "unsigned"},
		{"not an object", `[]`, nil, "want '{'"},
		{"empty", ``, nil, "ends"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readHeader(file(c.header, c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

// FuzzHeader checks readHeader against the safetensors library on any
// bytes: it must never accept what the library rejects, nor read a file
// differently.
func FuzzHeader(f *testing.F) {
	f.Add(encodeTiny(f, Int8))
	f.Add(file(`{"__metadata__":{"k":"v\u00e9"},"b":{"dtype":"F16","shape":[],"data_offsets":[4,6]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 6)))
	f.Add(file(`{"a":{"dtype":"U8","shape":[0,3],"data_offsets":[0,0]}}`, nil))
	f.Add(file(" {\"\\ud83d\\ude00\\n\\/\u00e9\" : {\"shape\" : [ 1 ] , \"dtype\":\"U8\",\"data_offsets\":[0,1]}}   ", []byte{7}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsLibrary(t, data)
	})
}
