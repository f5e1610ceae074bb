package weights

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/valyala/fastjson"
)

// decodeArchitecture reads the "architecture" metadata, which Encode
// writes with encoding/json. It is read field by field with fastjson
// rather than with encoding/json, whose reflection is costly the first
// time a browser runs it (see header.go); unlike the header, it is one
// small object, read once. A key this build does not
// know is an error rather than ignored, so a field added to
// engine.Architecture without a line here fails the round-trip test.
func decodeArchitecture(text string) (engine.Architecture, error) {
	if err := validateJSON([]byte(text)); err != nil {
		return engine.Architecture{}, err
	}
	var p fastjson.Parser
	v, err := p.Parse(text)
	if err != nil {
		return engine.Architecture{}, err
	}
	var a engine.Architecture
	err = eachField(v, func(key string, v *fastjson.Value) error {
		var err error
		switch key {
		case "family":
			err = readText(v, &a.Family)
		case "width":
			a.Width, err = readFloat(v, 64)
		case "groups":
			a.Groups, err = readInt(v)
		case "stem_channels":
			a.StemChannels, err = readInt(v)
		case "stage_channels":
			err = readInts(v, a.StageChannels[:])
		case "stage_units":
			err = readInts(v, a.StageUnits[:])
		case "classes":
			a.Classes, err = readInt(v)
		case "stem_batchnorm":
			a.StemBatchNorm, err = v.Bool()
		case "stem_relu":
			a.StemReLU, err = v.Bool()
		case "conv_bias":
			a.ConvBias, err = v.Bool()
		case "classifier_bias":
			a.ClassifierBias, err = v.Bool()
		case "depthwise":
			a.Depthwise, err = v.Bool()
		case "grouped_first_compress":
			a.GroupedFirstCompress, err = v.Bool()
		case "shuffle":
			err = readText(v, &a.Shuffle)
		case "shuffle_position":
			err = readText(v, &a.ShufflePosition)
		case "pool_first":
			a.PoolFirst, err = v.Bool()
		case "input":
			a.Input, err = decodeInputConvention(v)
		default:
			err = errUnknownKey
		}
		return err
	})
	return a, err
}

func decodeInputConvention(v *fastjson.Value) (engine.InputConvention, error) {
	var in engine.InputConvention
	err := eachField(v, func(key string, v *fastjson.Value) error {
		var err error
		switch key {
		case "bgr":
			in.BGR, err = v.Bool()
		case "scale":
			var f float64
			f, err = readFloat(v, 32)
			in.Scale = float32(f)
		case "mean":
			err = readFloats32(v, in.Mean[:])
		case "std":
			err = readFloats32(v, in.Std[:])
		case "resize_short":
			in.ResizeShort, err = readInt(v)
		case "crop":
			in.Crop, err = readInt(v)
		case "resize_filter":
			in.ResizeFilter, err = readString(v)
		default:
			err = errUnknownKey
		}
		return err
	})
	return in, err
}

// readText reads a string into one of the engine's string types.
func readText[T ~string](v *fastjson.Value, dst *T) error {
	s, err := readString(v)
	*dst = T(s)
	return err
}

// readInt reads an integer of at most 32 bits, as every count in an
// architecture is.
func readInt(v *fastjson.Value) (int, error) {
	n, err := v.Int64()
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int(n), nil
}

// readFloat reads a finite number, rounded to a float32 or float64 (by
// bitSize) straight from its text, as encoding/json would.
func readFloat(v *fastjson.Value, bitSize int) (float64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, fmt.Errorf("%s is not a number", v.Type())
	}
	f, err := strconv.ParseFloat(v.String(), bitSize)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = fmt.Errorf("%v is not finite", f)
	}
	return f, err
}

// readInts reads an array of exactly len(dst) integers.
func readInts(v *fastjson.Value, dst []int) error { return readArray(v, dst, readInt) }

// readFloats32 reads an array of exactly len(dst) numbers.
func readFloats32(v *fastjson.Value, dst []float32) error {
	return readArray(v, dst, func(v *fastjson.Value) (float32, error) {
		f, err := readFloat(v, 32)
		return float32(f), err
	})
}

// readArray reads an array of exactly len(dst) values with read.
func readArray[T any](v *fastjson.Value, dst []T, read func(*fastjson.Value) (T, error)) error {
	items, err := v.Array()
	if err != nil {
		return err
	}
	if len(items) != len(dst) {
		return fmt.Errorf("%d values, want %d", len(items), len(dst))
	}
	for i, item := range items {
		if dst[i], err = read(item); err != nil {
			return err
		}
	}
	return nil
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
