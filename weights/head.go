package weights

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shufflenet-go/shufflenet/engine/head"
)

// This file is the head file, which a taught head is saved in: a head of
// the user's own classes (engine/head) with the network it was trained on.
//
// It is JSON, one object, so that a person can read what classes a file
// holds and which model it needs, and any language can load it:
//
//	{
//	  "format": "shufflenet-head",
//	  "version": 1,
//	  "base": {"model": "megvii-g3-0.5x", "sha256": "da5df689…", "features": 480},
//	  "classes": ["cat", "dog"],
//	  "features": 480,
//	  "weight": [
//	    0.0123, -0.5, …,
//	    …
//	  ],
//	  "bias": [0.1, -0.1]
//	}
//
// weight is classes x features values, row-major, one class's row a line;
// numbers are float32 written in the fewest digits that read back exactly.
// A head of 10 classes of 480 features takes about 67 KB. The base's
// sha256 is that of the weights file the features came from: a head is
// only meaningful on the exact network it was trained on (see
// HeadFile.Matches).
//
// It is read with jsonReader and written by hand: encoding/json would add
// about 700 KB to the browser's module, which teaches and saves heads.

// HeadFormat and HeadVersion identify a head file.
const (
	HeadFormat  = "shufflenet-head"
	HeadVersion = 1
)

// MaxHeadSize is the most bytes a head file may have; DecodeHead refuses a
// larger one before reading it. The largest head (head.MaxClasses classes
// of head.MaxFeatures features, every number 14 bytes long, as
// -1.2345678e-12 is) encodes to 13.1 MB.
const MaxHeadSize = 16 << 20

// HeadBase identifies the network a head was trained on.
type HeadBase struct {
	Model    string // the model's name as the server lists it, e.g. "megvii-g3-0.5x"
	SHA256   string // hex sha256 of the base weights file
	Features int    // its FeatureChannels
}

// HeadFile is a decoded head file.
type HeadFile struct {
	Base HeadBase
	Head *head.Head
}

var (
	// ErrHeadFormat is wrapped by every DecodeHead error about the file
	// itself.
	ErrHeadFormat = errors.New("not a valid head file")
	// ErrHeadMismatch is wrapped by Matches' errors: the head was trained
	// on another network.
	ErrHeadMismatch = errors.New("head file for another model")
)

// check reports whether b can describe a network: a model name (as a class
// name: 1 to 100 bytes of UTF-8 without control characters), 64 hex digits
// of sha256 and 1 to head.MaxFeatures features.
func (b HeadBase) check() error {
	if err := head.CheckName(b.Model); err != nil {
		return fmt.Errorf("base model: %w", err)
	}
	if !isSHA256(b.SHA256) {
		return fmt.Errorf("base sha256 %q is not 64 hex digits", b.SHA256)
	}
	if b.Features < 1 || b.Features > head.MaxFeatures {
		return fmt.Errorf("base has %d features, want 1 to %d", b.Features, head.MaxFeatures)
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// check reports whether f can be saved: a valid head (head.Check) on a
// valid base with as many features.
func (f HeadFile) check() error {
	if f.Head == nil {
		return errors.New("no head")
	}
	if err := f.Head.Check(); err != nil {
		return err
	}
	if err := f.Base.check(); err != nil {
		return err
	}
	if f.Base.Features != f.Head.Features {
		return fmt.Errorf("base has %d features, the head %d", f.Base.Features, f.Head.Features)
	}
	return nil
}

// Matches reports whether the head can run on the network b describes:
// nil if it has the head's features and is the same weights file, by
// sha256 where b has one (a model renamed is the same network) and by name
// where it does not. The error, wrapping ErrHeadMismatch, says both.
func (f HeadFile) Matches(b HeadBase) error {
	same := b.Features == f.Base.Features
	if b.SHA256 != "" {
		same = same && strings.EqualFold(b.SHA256, f.Base.SHA256)
	} else {
		same = same && b.Model == f.Base.Model
	}
	if same {
		return nil
	}
	return headMismatch(fmt.Sprintf("head file for %s with %d features, but this model is %s with %d features",
		describeBase(f.Base), f.Base.Features, describeBase(b), b.Features))
}

// describeBase names a base for Matches' error: the model and the start of
// its sha256.
func describeBase(b HeadBase) string {
	sha := "unknown"
	if b.SHA256 != "" {
		sha = strings.ToLower(b.SHA256)
		if len(sha) > 12 {
			sha = sha[:12] + "…"
		}
	}
	name := b.Model
	if name == "" {
		name = "unnamed"
	}
	return fmt.Sprintf("%s (sha256 %s)", name, sha)
}

// headMismatch is Matches' error.
type headMismatch string

func (m headMismatch) Error() string { return string(m) }
func (headMismatch) Unwrap() error   { return ErrHeadMismatch }

// EncodeHead writes f as a head file, after checking it as DecodeHead
// would.
func EncodeHead(f HeadFile) ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("encode head file: %w", err)
	}
	h := f.Head
	// A float32 takes at most 14 bytes and ", "; a name at most
	// 6*head.MaxNameBytes bytes escaped.
	b := make([]byte, 0, 16*(len(h.Weight)+len(h.Bias))+(len(h.Classes)+1)*(6*head.MaxNameBytes+4)+512)
	b = append(b, "{\n  \"format\": "...)
	b = appendJSONString(b, HeadFormat)
	b = append(b, ",\n  \"version\": "...)
	b = strconv.AppendInt(b, HeadVersion, 10)
	b = append(b, ",\n  \"base\": {\"model\": "...)
	b = appendJSONString(b, f.Base.Model)
	b = append(b, ", \"sha256\": "...)
	b = appendJSONString(b, strings.ToLower(f.Base.SHA256))
	b = append(b, ", \"features\": "...)
	b = strconv.AppendInt(b, int64(f.Base.Features), 10)
	b = append(b, "},\n  \"classes\": ["...)
	for i, name := range h.Classes {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, name)
	}
	b = append(b, "],\n  \"features\": "...)
	b = strconv.AppendInt(b, int64(h.Features), 10)
	b = append(b, ",\n  \"weight\": ["...)
	for c := range h.Classes {
		if c > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendFloat32s(b, h.Weight[c*h.Features:(c+1)*h.Features])
	}
	b = append(b, "\n  ],\n  \"bias\": ["...)
	b = appendFloat32s(b, h.Bias)
	b = append(b, "]\n}\n"...)
	if len(b) > MaxHeadSize { // cannot happen within head.Check's limits; see MaxHeadSize
		return nil, fmt.Errorf("encode head file: %d bytes, the limit is %d", len(b), MaxHeadSize)
	}
	return b, nil
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// with SetEscapeHTML(false), leaving <, > and & as they are for a person
// reading the file: ", \ and control characters below U+0020 escaped (as
// \n, \t and the like where JSON has a short escape), U+2028 and U+2029
// escaped for JavaScript, invalid UTF-8 written as U+FFFD. Everything
// else, non-ASCII included, is written as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // the first byte of s not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat32s appends float32s separated by ", ", each in the fewest
// digits that read back to it.
func appendFloat32s(b []byte, v []float32) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return b
}

// DecodeHead reads a head file, checking everything before it returns: the
// format and version, each key given once and no others, each value's
// type, the sizes, the head (head.Check: names, classes, finite numbers),
// the base (model name, 64 hex digits of sha256) and that the two have as
// many features. It reads the JSON with jsonReader, expecting this
// format's shape and stopping at the first thing wrong, so that no input
// makes it hold much more than the file itself: a list longer than a head
// can have is refused as soon as it is, and nothing nests deeper than the
// base. Every error wraps ErrHeadFormat.
func DecodeHead(data []byte) (HeadFile, error) {
	f, err := decodeHead(data)
	if err != nil {
		return HeadFile{}, fmt.Errorf("%w: %v", ErrHeadFormat, err)
	}
	return f, nil
}

func decodeHead(data []byte) (HeadFile, error) {
	if len(data) > MaxHeadSize {
		return HeadFile{}, fmt.Errorf("%d bytes, the limit is %d", len(data), MaxHeadSize)
	}
	if !utf8.Valid(data) {
		return HeadFile{}, errors.New("not UTF-8 text")
	}
	var (
		r        = &jsonReader{text: data}
		f        HeadFile
		h        head.Head
		features int
		got      = map[string]bool{}
	)
	err := r.object(once(func(key []byte) error {
		got[string(key)] = true
		var err error
		switch string(key) {
		case "format":
			var format []byte
			if format, err = r.string(); err == nil && string(format) != HeadFormat {
				err = fmt.Errorf("%q, want %q", format, HeadFormat)
			}
		case "version":
			var version int
			if version, err = r.int(); err == nil && version != HeadVersion {
				err = fmt.Errorf("%d, this build reads %d", version, HeadVersion)
			}
		case "base":
			err = r.object(once(func(key []byte) (err error) {
				switch string(key) {
				case "model":
					err = readText(r, &f.Base.Model)
				case "sha256":
					err = readText(r, &f.Base.SHA256)
				case "features":
					f.Base.Features, err = r.int()
				default:
					err = errUnknownKey
				}
				return err
			}))
		case "classes":
			err = readLimited(r, head.MaxClasses, func() error {
				name, err := r.string()
				if err == nil {
					err = head.CheckName(string(name))
				}
				h.Classes = append(h.Classes, string(name))
				return err
			})
			if err == nil && len(h.Classes) < 2 {
				err = fmt.Errorf("%d classes, want 2 to %d", len(h.Classes), head.MaxClasses)
			}
		case "features":
			if features, err = r.int(); err == nil && (features < 1 || features > head.MaxFeatures) {
				err = fmt.Errorf("%d, want 1 to %d", features, head.MaxFeatures)
			}
		case "weight":
			limit := head.MaxClasses * head.MaxFeatures
			if features > 0 && h.Classes != nil { // the usual order: refuse a long list early
				limit = len(h.Classes) * features
				h.Weight = make([]float32, 0, limit)
			}
			h.Weight, err = readFloat32s(r, h.Weight, limit)
		case "bias":
			h.Bias, err = readFloat32s(r, h.Bias, head.MaxClasses)
		default:
			err = errUnknownKey
		}
		return err
	}))
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return HeadFile{}, err
	}
	for _, key := range []string{"format", "version", "base", "classes", "features", "weight", "bias"} {
		if !got[key] {
			return HeadFile{}, fmt.Errorf("no %q", key)
		}
	}
	h.Features = features
	f.Head = &h
	if err := f.check(); err != nil {
		return HeadFile{}, err
	}
	f.Base.SHA256 = strings.ToLower(f.Base.SHA256)
	return f, nil
}

// readLimited reads a JSON array of at most limit values, calling item to
// read each; an error names the value.
func readLimited(r *jsonReader, limit int, item func() error) error {
	n := 0
	return r.array(func() error {
		if n == limit {
			return fmt.Errorf("more than %d values", limit)
		}
		if err := item(); err != nil {
			return fmt.Errorf("value %d: %w", n, err)
		}
		n++
		return nil
	})
}

// readFloat32s reads a JSON array of at most limit numbers, each rounded
// to a float32, appended to dst.
func readFloat32s(r *jsonReader, dst []float32, limit int) ([]float32, error) {
	err := readLimited(r, limit, func() error {
		v, err := readFloat32(r)
		dst = append(dst, v)
		return err
	})
	return dst, err
}
