package pth

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/hostile"
	"github.com/shufflenet-go/shufflenet/internal/shared"
)

func TestReadRealCheckpoints(t *testing.T) {
	for _, c := range []struct {
		file    string
		tensors int
		wrapped string
		first   string
		shape   []int
	}{
		{"weights/megvii-shufflenetv1-g3-0.5x.pth.tar", 295, "state_dict", "module.first_conv.0.weight", []int{12, 3, 3, 3}},
		{"testdata/seed_g3_1x.pth", 340, "", "conv1.weight", []int{24, 3, 3, 3}},
		{"testdata/families/mmpretrain_shufflenet_v1_g3_1x.pth", 296, "state_dict", "backbone.conv1.conv.weight", []int{24, 3, 3, 3}},
		{"testdata/families/pytorchcv_shufflenet_g3_wd2.pth", 296, "", "features.init_block.conv.weight", []int{12, 3, 3, 3}},
	} {
		t.Run(c.file, func(t *testing.T) {
			sd, err := Read(shared.Read(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(sd.Names) != c.tensors || sd.Wrapped != c.wrapped || sd.Names[0] != c.first {
				t.Errorf("%d tensors wrapped in %q, first %q; want %d in %q, first %q",
					len(sd.Names), sd.Wrapped, sd.Names[0], c.tensors, c.wrapped, c.first)
			}
			if got := sd.Tensors[c.first]; !slices.Equal(got.Shape, c.shape) || got.Len() != len(got.Data) || got.DType != "float32" {
				t.Errorf("%s: shape %v dtype %s with %d values", c.first, got.Shape, got.DType, len(got.Data))
			}
		})
	}
}

// Corrupt files give an error that says what is wrong; none panics, hangs
// or allocates more than the file holds.
func TestReadCorrupt(t *testing.T) {
	legacy := shared.Read(t, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	zipped := shared.Read(t, "testdata/families/mmpretrain_shufflenet_v1_g3_1x.pth")

	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "model.pth", Size: 4, Mode: 0o644})
	tw.Write([]byte("data"))
	tw.Close()

	// A legacy file in which the first storage whose element count is a
	// 4-byte BININT (after its location string and a LONG_BINPUT) claims
	// 2^31-1 elements, far more than the file holds.
	huge := bytes.Clone(legacy)
	for i := 0; ; i++ {
		j := bytes.Index(huge[i:], []byte("cuda:0r"))
		if j < 0 {
			t.Fatal("no storage with a BININT size in the test file")
		}
		if at := i + j + 11; huge[at] == 'J' {
			copy(huge[at+1:], []byte{0xff, 0xff, 0xff, 0x7f})
			break
		}
		i += j
	}

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"zeros", make([]byte, 4096), "not a PyTorch checkpoint"},
		{"text", []byte("not a checkpoint at all"), "not a PyTorch checkpoint"},
		{"tar", tarball.Bytes(), "not a PyTorch checkpoint"},
		{"legacy header only", legacy[:40], "pickle"},
		{"legacy truncated in the pickle", legacy[:5000], "pickle"},
		{"legacy truncated in the storages", legacy[:len(legacy)/2], "truncated"},
		{"legacy missing last byte", legacy[:len(legacy)-1], "truncated"},
		{"legacy huge storage", huge, "elements"},
		{"zip truncated", zipped[:len(zipped)/2], "zip"},
		{"zip without its end", zipped[:len(zipped)-100], "zip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestScanPickleBoundsLengths(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"BINUNICODE of 4 GB", []byte{0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff, 'a', '.'}},
		{"BINBYTES8 of 2^63", []byte{0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80, '.'}},
		{"FRAME past the end", []byte{0x80, 4, 0x95, 0xff, 0, 0, 0, 0, 0, 0, 0, '.'}},
		{"LONG4 negative", []byte{0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0xff, '.'}},
		{"no STOP", []byte{0x80, 2, 'N'}},
		{"unknown opcode", []byte{0x80, 2, 0xff, '.'}},
		{"unterminated GLOBAL", []byte{0x80, 2, 'c', 'o', 's'}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := scanPickle(c.data); err == nil {
				t.Error("accepted")
			}
			if _, err := unpickle(c.data, nil); err == nil {
				t.Error("unpickled")
			}
		})
	}
}

func TestErrFormat(t *testing.T) {
	if _, err := Read([]byte("GIF89a")); !errors.Is(err, ErrFormat) {
		t.Errorf("error %v does not wrap ErrFormat", err)
	}
}

// FuzzRead feeds mutated checkpoints to the reader: it must return an
// error or tensors, never panic, hang or run out of memory.
func FuzzRead(f *testing.F) {
	legacy := shared.Read(f, "weights/megvii-shufflenetv1-g3-0.5x.pth.tar")
	f.Add(legacy)
	f.Add(legacy[:20000]) // the pickles and the start of the storages
	f.Add(shared.Read(f, "testdata/families/pytorchcv_shufflenet_g3_wd2.pth"))
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Read(data)
		if err != nil {
			return
		}
		for _, name := range sd.Names {
			tensor := sd.Tensors[name]
			if tensor.Data != nil && len(tensor.Data) != tensor.Len() {
				t.Fatalf("%s: %d values for shape %v", name, len(tensor.Data), tensor.Shape)
			}
		}
	})
}

// mmcv checkpoints keep arbitrary Python objects in "meta" (numpy scalars,
// collections.defaultdict): they are skipped, and the state dict loads.
func TestMetaWithArbitraryObjects(t *testing.T) {
	orig := shared.Read(t, "testdata/families/mmpretrain_shufflenet_v1_g3_1x.pth")
	zr, err := zip.NewReader(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	// Pickle protocol 2 for two more entries of the meta dict:
	// 'np': numpy.core.multiarray.scalar(numpy.dtype('f8'), b'...') and
	// 'hooks': collections.defaultdict(list, {'a': []}).
	extra := "X\x02\x00\x00\x00np" +
		"cnumpy.core.multiarray\nscalar\n(" +
		"cnumpy\ndtype\n(X\x02\x00\x00\x00f8\x89\x88tR" +
		"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb" +
		"C\x08\x00\x00\x00\x00\x00\x00\xf0?tR" +
		"X\x05\x00\x00\x00hooks" +
		"ccollections\ndefaultdict\nc__builtin__\nlist\n\x85R(X\x01\x00\x00\x00a]u"
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	patched := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if strings.HasSuffix(f.Name, "/data.pkl") {
			// The meta dict opens with EMPTY_DICT, BINPUT 2, MARK.
			at := bytes.Index(data, []byte("}q\x02("))
			if at < 0 {
				t.Fatal("meta dict not found in data.pkl")
			}
			data = append(append(bytes.Clone(data[:at+4]), extra...), data[at+4:]...)
			patched = true
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		w.Write(data)
	}
	zw.Close()
	if !patched {
		t.Fatal("no data.pkl")
	}
	sd, err := Read(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if sd.Wrapped != "state_dict" || len(sd.Names) != 296 {
		t.Errorf("%d tensors wrapped in %q", len(sd.Names), sd.Wrapped)
	}
}

// zipCheckpoint is a torch.save zip archive of a state dict holding count
// float32 tensors of numel zeros each, every storage a deflated record,
// and a stored record of padding bytes that nothing uses.
func zipCheckpoint(t testing.TB, count, numel, padding int) []byte {
	var pkl bytes.Buffer
	str := func(s string) {
		pkl.WriteByte('X')
		binary.Write(&pkl, binary.LittleEndian, uint32(len(s)))
		pkl.WriteString(s)
	}
	integer := func(v int) {
		pkl.WriteByte('J')
		binary.Write(&pkl, binary.LittleEndian, int32(v))
	}
	pkl.Write([]byte{0x80, 2, '}', '('})
	for i := range count {
		str(fmt.Sprintf("layer%d.weight", i))
		pkl.WriteString("ctorch._utils\n_rebuild_tensor_v2\n(")
		// The storage: a persistent id ('storage', FloatStorage, key, 'cpu', numel).
		pkl.WriteByte('(')
		str("storage")
		pkl.WriteString("ctorch\nFloatStorage\n")
		str(strconv.Itoa(i))
		str("cpu")
		integer(numel)
		pkl.Write([]byte{'t', 'Q'})
		integer(0)                                       // storage offset
		integer(numel)                                   // size
		pkl.WriteByte(0x85)                              // TUPLE1
		integer(1)                                       // stride
		pkl.WriteByte(0x85)                              // TUPLE1
		pkl.WriteByte(0x89)                              // requires_grad=False
		pkl.WriteString("ccollections\nOrderedDict\n)R") // backward hooks
		pkl.Write([]byte{'t', 'R'})
	}
	pkl.Write([]byte{'u', '.'})

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pkl.Bytes())
	w, err = zw.CreateHeader(&zip.FileHeader{Name: "archive/padding", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte("padding!"), padding/8))
	zeros := make([]byte, 4*numel)
	for i := range count {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data/" + strconv.Itoa(i), Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// What all storages of a zip archive take together is bounded by the
// archive's size, not only what each takes: 100 deflated records of 4 MB
// of zeros in a 1.4 MB file (each record alone is within bounds) are
// refused before 400 MB are allocated.
func TestZipStoragesAreBoundedInTotal(t *testing.T) {
	small := zipCheckpoint(t, 3, 10, 0)
	sd, err := Read(small)
	if err != nil {
		t.Fatalf("a small archive of the same make: %v", err)
	}
	if len(sd.Names) != 3 || len(sd.Tensors["layer2.weight"].Data) != 10 {
		t.Fatalf("read %v", sd.Names)
	}

	bomb := zipCheckpoint(t, 100, 1<<20, 1<<20)
	allocated := hostile.Allocated(func() { _, err = Read(bomb) })
	if err == nil || !strings.Contains(err.Error(), "larger than 4 times") {
		t.Fatalf("error %v, want one about the storages' total size", err)
	}
	if limit := uint64(8 * len(bomb)); allocated > limit {
		t.Errorf("a %d-byte archive allocated %d bytes before failing, want at most %d", len(bomb), allocated, limit)
	}
	t.Logf("%d-byte archive: %v after %d MB", len(bomb), err, allocated>>20)
}
