// Package weightstest gives tests the real Megvii ShuffleNet V1 g3 0.5x
// checkpoint (from ../shared, see internal/shared) converted to a weights
// file, as `make weights` ships it, once per dtype and test binary:
// converting takes a moment and several packages' tests need the file.
package weightstest

import (
	"sync"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/convert"
)

// MegviiCheckpoint is the checkpoint's name in ../shared/weights.
const MegviiCheckpoint = "megvii-shufflenetv1-g3-0.5x.pth.tar"

// MegviiFile is the name a server gives the int8 weights file.
const MegviiFile = "megvii-g3-0.5x.int8.safetensors"

type converted struct {
	once sync.Once
	file []byte
	err  error
}

var byDType sync.Map // weights.DType -> *converted

// Megvii is the checkpoint converted to a weights file of dtype dt.
// Where ../shared is missing, the test skips (or fails on CI), as with
// internal/shared.
func Megvii(t testing.TB, dt weights.DType) []byte {
	t.Helper()
	ckpt := shared.Read(t, "weights/"+MegviiCheckpoint)
	v, _ := byDType.LoadOrStore(dt, &converted{})
	c := v.(*converted)
	c.once.Do(func() {
		res, err := convert.Checkpoint(ckpt, convert.Options{DType: dt, SourceName: MegviiCheckpoint})
		if err != nil {
			c.err = err
			return
		}
		c.file = res.File
	})
	if c.err != nil {
		t.Fatalf("convert %s to %s: %v", MegviiCheckpoint, dt, c.err)
	}
	return c.file
}
