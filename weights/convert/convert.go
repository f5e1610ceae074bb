// Package convert turns a PyTorch checkpoint of any supported family into
// a weights file: import, fold, choose per-layer storage types, encode.
package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/weights"
	"github.com/shufflenet-go/shufflenet/weights/checkpoint"
)

// Options control a conversion.
type Options struct {
	// Family of the checkpoint; "" recognises it from the key names.
	Family engine.Family
	// DType is weights.Int8 (mixed: int8 where it is harmless, float16
	// where it measurably hurts), weights.Float16 or weights.Float32.
	DType weights.DType
	// SourceName is recorded in the file's metadata (the checkpoint's file name).
	SourceName string
	// Progress, if set, is told how many of the int8 plan's layers are
	// measured, as each is (from several goroutines, one call at a time).
	Progress func(done, total int)
}

// Result is a converted model.
type Result struct {
	File []byte
	Arch engine.Architecture
	// Plan is the per-layer choice and its measurements (int8 only).
	Plan *Plan
}

// Checkpoint converts the bytes of a PyTorch checkpoint.
func Checkpoint(data []byte, opts Options) (*Result, error) {
	m, err := checkpoint.Read(data, opts.Family)
	if err != nil {
		return nil, err
	}
	params, err := engine.Fold(m.Arch, m.Trained)
	if err != nil {
		return nil, err
	}
	layers := 2 + 3*len(m.Arch.Units())
	res := &Result{Arch: m.Arch}
	var dtypes []weights.DType
	switch opts.DType {
	case weights.Int8:
		plan, err := planInt8(m.Arch, params, opts.Progress)
		if err != nil {
			return nil, err
		}
		res.Plan, dtypes = &plan, plan.DTypes
	case weights.Float16, weights.Float32:
		dtypes = slices.Repeat([]weights.DType{opts.DType}, layers)
	default:
		return nil, fmt.Errorf("unknown dtype %q (int8, f16 or f32)", opts.DType)
	}
	sum := sha256.Sum256(data)
	meta := weights.Meta{Labels: "imagenet-1k", SourceName: opts.SourceName, SourceSHA256: hex.EncodeToString(sum[:])}
	if res.File, err = weights.Encode(m.Arch, params, meta, dtypes); err != nil {
		return nil, err
	}
	return res, nil
}
