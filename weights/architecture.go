package weights

import (
	"github.com/shufflenet-go/shufflenet/engine"
)

// ParseArchitecture reads an architecture as a weights file's header holds
// it (Model.ArchitectureJSON). The browser's interface learns its models'
// architectures this way from the workers, without encoding/json, which
// would add 600 KB to the module every page downloads.
func ParseArchitecture(text string) (engine.Architecture, error) { return decodeArchitecture(text) }

// decodeArchitecture reads the "architecture" metadata, which Encode
// writes with encoding/json, field by field with jsonReader (see there
// for why not with encoding/json). A key this build does not know is an
// error rather than ignored, so a field added to engine.Architecture
// without a line here fails the round-trip test.
func decodeArchitecture(text string) (engine.Architecture, error) {
	var a engine.Architecture
	r := &jsonReader{text: []byte(text)}
	err := r.object(once(func(key []byte) error {
		var err error
		switch string(key) {
		case "family":
			err = readText(r, &a.Family)
		case "width":
			a.Width, err = r.float(64)
		case "groups":
			a.Groups, err = r.int()
		case "stem_channels":
			a.StemChannels, err = r.int()
		case "stage_channels":
			err = readArray(r, a.StageChannels[:], r.int)
		case "stage_units":
			err = readArray(r, a.StageUnits[:], r.int)
		case "classes":
			a.Classes, err = r.int()
		case "stem_batchnorm":
			a.StemBatchNorm, err = r.bool()
		case "stem_relu":
			a.StemReLU, err = r.bool()
		case "conv_bias":
			a.ConvBias, err = r.bool()
		case "classifier_bias":
			a.ClassifierBias, err = r.bool()
		case "depthwise":
			a.Depthwise, err = r.bool()
		case "grouped_first_compress":
			a.GroupedFirstCompress, err = r.bool()
		case "shuffle":
			err = readText(r, &a.Shuffle)
		case "shuffle_position":
			err = readText(r, &a.ShufflePosition)
		case "pool_first":
			a.PoolFirst, err = r.bool()
		case "input":
			a.Input, err = readInputConvention(r)
		default:
			err = errUnknownKey
		}
		return err
	}))
	if err == nil {
		err = r.end()
	}
	return a, err
}

func readInputConvention(r *jsonReader) (engine.InputConvention, error) {
	var in engine.InputConvention
	err := r.object(once(func(key []byte) error {
		var err error
		switch string(key) {
		case "bgr":
			in.BGR, err = r.bool()
		case "scale":
			in.Scale, err = readFloat32(r)
		case "mean":
			err = readArray(r, in.Mean[:], func() (float32, error) { return readFloat32(r) })
		case "std":
			err = readArray(r, in.Std[:], func() (float32, error) { return readFloat32(r) })
		case "resize_short":
			in.ResizeShort, err = r.int()
		case "crop":
			in.Crop, err = r.int()
		case "resize_filter":
			err = readText(r, &in.ResizeFilter)
		default:
			err = errUnknownKey
		}
		return err
	}))
	return in, err
}

// readText reads a string into one of the engine's string types.
func readText[T ~string](r *jsonReader, dst *T) error {
	s, err := r.string()
	*dst = T(s)
	return err
}

// readFloat32 reads a number rounded to a float32.
func readFloat32(r *jsonReader) (float32, error) {
	f, err := r.float(32)
	return float32(f), err
}
