// Package headfile is the file a taught head is saved in: a head of the
// user's own classes (engine/head) with the network it was trained on.
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
// File.Matches).
package headfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shufflenet-go/shufflenet/engine/head"
)

// Format and Version identify the file.
const (
	Format  = "shufflenet-head"
	Version = 1
)

// MaxSize is the most bytes a head file may have; Decode refuses a larger
// one before reading it. The largest head (head.MaxClasses classes of
// head.MaxFeatures features, every number 14 bytes long, as -1.2345678e-12
// is) encodes to 13.1 MB.
const MaxSize = 16 << 20

// Base identifies the network a head was trained on.
type Base struct {
	Model    string `json:"model"`    // the model's name as the server lists it, e.g. "megvii-g3-0.5x"
	SHA256   string `json:"sha256"`   // hex sha256 of the base weights file
	Features int    `json:"features"` // its FeatureChannels
}

// File is a decoded head file.
type File struct {
	Base Base
	Head *head.Head
}

var (
	// ErrFormat is wrapped by every Decode error about the file itself.
	ErrFormat = errors.New("not a valid head file")
	// ErrMismatch is wrapped by Matches' errors: the head was trained on
	// another network.
	ErrMismatch = errors.New("head file for another model")
)

// check reports whether b can describe a network: a model name (as a class
// name: 1 to 100 bytes of UTF-8 without control characters), 64 hex digits
// of sha256 and 1 to head.MaxFeatures features.
func (b Base) check() error {
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
func (f File) check() error {
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
// where it does not. The error, wrapping ErrMismatch, says both.
func (f File) Matches(b Base) error {
	same := b.Features == f.Base.Features
	if b.SHA256 != "" {
		same = same && strings.EqualFold(b.SHA256, f.Base.SHA256)
	} else {
		same = same && b.Model == f.Base.Model
	}
	if same {
		return nil
	}
	return mismatch(fmt.Sprintf("head file for %s with %d features, but this model is %s with %d features",
		describe(f.Base), f.Base.Features, describe(b), b.Features))
}

// describe names a base for Matches' error: the model and the start of its
// sha256.
func describe(b Base) string {
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

// mismatch is Matches' error.
type mismatch string

func (m mismatch) Error() string { return string(m) }
func (mismatch) Unwrap() error   { return ErrMismatch }

// Encode writes f as a head file, after checking it as Decode would.
func Encode(f File) ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("encode head file: %w", err)
	}
	h := f.Head
	var b bytes.Buffer
	b.Grow(14*(len(h.Weight)+len(h.Bias)) + 512) // a float32 is mostly 10 to 14 digits and ", "
	b.WriteString("{\n  \"format\": ")
	writeString(&b, Format)
	fmt.Fprintf(&b, ",\n  \"version\": %d,\n  \"base\": {\"model\": ", Version)
	writeString(&b, f.Base.Model)
	b.WriteString(", \"sha256\": ")
	writeString(&b, strings.ToLower(f.Base.SHA256))
	fmt.Fprintf(&b, ", \"features\": %d},\n  \"classes\": [", f.Base.Features)
	for i, name := range h.Classes {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(&b, name)
	}
	fmt.Fprintf(&b, "],\n  \"features\": %d,\n  \"weight\": [", h.Features)
	for c := range h.Classes {
		if c > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		writeNumbers(&b, h.Weight[c*h.Features:(c+1)*h.Features])
	}
	b.WriteString("\n  ],\n  \"bias\": [")
	writeNumbers(&b, h.Bias)
	b.WriteString("]\n}\n")
	if b.Len() > MaxSize { // cannot happen within head.Check's limits; see MaxSize
		return nil, fmt.Errorf("encode head file: %d bytes, the limit is %d", b.Len(), MaxSize)
	}
	return b.Bytes(), nil
}

// writeString writes s as a JSON string, leaving <, > and & as they are
// for a person reading the file.
func writeString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// writeNumbers writes float32s separated by ", ", each in the fewest
// digits that read back to it.
func writeNumbers(b *bytes.Buffer, v []float32) {
	var tmp [32]byte
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(strconv.AppendFloat(tmp[:0], float64(x), 'g', -1, 32))
	}
}

// Decode reads a head file, checking everything before it returns: the
// format and version, each key given once and no others, each value's
// type, the sizes, the head (head.Check: names, classes, finite numbers),
// the base (model name, 64 hex digits of sha256) and that the two have as
// many features. It reads the JSON as it goes, expecting this format's
// shape and stopping at the first thing wrong, so that no input makes it
// hold much more than the file itself: a list longer than a head can have
// is refused as soon as it is, and nothing nests deeper than the base.
// Every error wraps ErrFormat.
func Decode(data []byte) (File, error) {
	f, err := decode(data)
	if err != nil {
		return File{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return f, nil
}

func decode(data []byte) (File, error) {
	if len(data) > MaxSize {
		return File{}, fmt.Errorf("%d bytes, the limit is %d", len(data), MaxSize)
	}
	if !utf8.Valid(data) {
		return File{}, errors.New("not UTF-8 text")
	}
	var (
		r        = reader{data: data}
		f        File
		h        head.Head
		features int
		got      = map[string]bool{}
	)
	err := r.object(func(key string) error {
		got[key] = true
		var err error
		switch key {
		case "format":
			var format string
			if format, err = r.string(); err == nil && format != Format {
				err = fmt.Errorf("%q, want %q", format, Format)
			}
		case "version":
			var version int
			if version, err = r.integer(); err == nil && version != Version {
				err = fmt.Errorf("%d, this build reads %d", version, Version)
			}
		case "base":
			err = r.object(func(key string) (err error) {
				switch key {
				case "model":
					f.Base.Model, err = r.string()
				case "sha256":
					f.Base.SHA256, err = r.string()
				case "features":
					f.Base.Features, err = r.integer()
				default:
					err = errUnknownKey
				}
				return err
			})
		case "classes":
			err = r.array(head.MaxClasses, func() error {
				name, err := r.string()
				if err == nil {
					err = head.CheckName(name)
				}
				h.Classes = append(h.Classes, name)
				return err
			})
			if err == nil && len(h.Classes) < 2 {
				err = fmt.Errorf("%d classes, want 2 to %d", len(h.Classes), head.MaxClasses)
			}
		case "features":
			if features, err = r.integer(); err == nil && (features < 1 || features > head.MaxFeatures) {
				err = fmt.Errorf("%d, want 1 to %d", features, head.MaxFeatures)
			}
		case "weight":
			limit := head.MaxClasses * head.MaxFeatures
			if features > 0 && h.Classes != nil { // the usual order: refuse a long list early
				limit = len(h.Classes) * features
			}
			err = r.array(limit, func() error {
				v, err := r.float32()
				h.Weight = append(h.Weight, v)
				return err
			})
		case "bias":
			err = r.array(head.MaxClasses, func() error {
				v, err := r.float32()
				h.Bias = append(h.Bias, v)
				return err
			})
		default:
			err = errUnknownKey
		}
		return err
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return File{}, err
	}
	for _, key := range []string{"format", "version", "base", "classes", "features", "weight", "bias"} {
		if !got[key] {
			return File{}, fmt.Errorf("no %q", key)
		}
	}
	h.Features = features
	f.Head = &h
	if err := f.check(); err != nil {
		return File{}, err
	}
	f.Base.SHA256 = strings.ToLower(f.Base.SHA256)
	return f, nil
}

// errUnknownKey is the error for a key the format does not have.
var errUnknownKey = errors.New("unknown key")

// reader reads a head file's JSON a value at a time, each of the type the
// format has there, and fails at anything else. It follows JSON's
// grammar (RFC 8259) for what it reads, and leaves strings' escapes to
// encoding/json. It is a few lines rather than encoding/json's Decoder,
// whose Token allocates about 150 bytes a number: Decode of the largest
// head took 0.7 s with it, 40 ms with this (BenchmarkLargestHead).
type reader struct {
	data []byte
	at   int // the next byte to read
}

// object reads an object, calling field with each key, each at most once,
// to read its value.
func (r *reader) object(field func(key string) error) error {
	if err := r.byte('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.at++
		return nil
	}
	seen := map[string]bool{}
	for {
		key, err := r.string()
		if err != nil {
			return err
		}
		if err := r.byte(':'); err != nil {
			return err
		}
		if seen[key] {
			return fmt.Errorf("%q: key given twice", key)
		}
		seen[key] = true
		if err := field(key); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		switch r.peek() {
		case ',':
			r.at++
		case '}':
			r.at++
			return nil
		default:
			return r.unexpected("',' or '}'")
		}
	}
}

// array reads an array of at most limit values, calling item to read each.
func (r *reader) array(limit int, item func() error) error {
	if err := r.byte('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.at++
		return nil
	}
	for i := 0; ; i++ {
		if i == limit {
			return fmt.Errorf("more than %d values", limit)
		}
		if err := item(); err != nil {
			return fmt.Errorf("value %d: %w", i, err)
		}
		switch r.peek() {
		case ',':
			r.at++
		case ']':
			r.at++
			return nil
		default:
			return r.unexpected("',' or ']'")
		}
	}
}

// maxString is the most bytes a string may take in a head file: a name
// of head.MaxNameBytes, every byte escaped (\u0041), and its quotes.
const maxString = 6*head.MaxNameBytes + 2

// string reads a string. It finds the closing quote and has encoding/json
// decode what lies between, which checks the escapes.
func (r *reader) string() (string, error) {
	if r.peek() != '"' {
		return "", r.unexpected("a string")
	}
	start := r.at
	for i := start + 1; i < len(r.data); i++ {
		if i-start > maxString {
			return "", fmt.Errorf("byte %d: a string of more than %d bytes", start, maxString)
		}
		switch r.data[i] {
		case '\\':
			i++
		case '"':
			var s string
			if err := json.Unmarshal(r.data[start:i+1], &s); err != nil {
				return "", fmt.Errorf("byte %d: %v", start, err)
			}
			r.at = i + 1
			return s, nil
		}
	}
	return "", errors.New("unexpected end of the file in a string")
}

// number reads a number and returns its text.
func (r *reader) number() ([]byte, error) {
	r.space()
	start, d := r.at, r.data
	digits := func() int {
		n := 0
		for r.at < len(d) && '0' <= d[r.at] && d[r.at] <= '9' {
			r.at++
			n++
		}
		return n
	}
	if r.at < len(d) && d[r.at] == '-' {
		r.at++
	}
	if r.at < len(d) && d[r.at] == '0' {
		r.at++
	} else if digits() == 0 {
		r.at = start
		return nil, r.unexpected("a number")
	}
	if r.at < len(d) && d[r.at] == '.' {
		r.at++
		if digits() == 0 {
			return nil, r.unexpected("a digit")
		}
	}
	if r.at < len(d) && (d[r.at] == 'e' || d[r.at] == 'E') {
		r.at++
		if r.at < len(d) && (d[r.at] == '+' || d[r.at] == '-') {
			r.at++
		}
		if digits() == 0 {
			return nil, r.unexpected("a digit")
		}
	}
	return d[start:r.at], nil
}

// integer reads a number that is a whole int.
func (r *reader) integer() (int, error) {
	n, err := r.number()
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(string(n))
	if err != nil {
		return 0, fmt.Errorf("%.20s, want a whole number", n)
	}
	return i, nil
}

// float32 reads a number as the nearest float32, which must be finite.
func (r *reader) float32() (float32, error) {
	n, err := r.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(string(n), 32)
	if err != nil { // the syntax is JSON's, so it is the range
		return 0, fmt.Errorf("%.20s is out of float32's range", n)
	}
	return float32(v), nil
}

// byte reads the character c.
func (r *reader) byte(c byte) error {
	if r.peek() != c {
		return r.unexpected(fmt.Sprintf("'%c'", c))
	}
	r.at++
	return nil
}

// peek returns the next character after white space, 0 at the end.
func (r *reader) peek() byte {
	r.space()
	if r.at == len(r.data) {
		return 0
	}
	return r.data[r.at]
}

func (r *reader) space() {
	for r.at < len(r.data) {
		switch r.data[r.at] {
		case ' ', '\t', '\n', '\r':
			r.at++
		default:
			return
		}
	}
}

// end checks that nothing follows the object but white space.
func (r *reader) end() error {
	if r.peek() != 0 || r.at != len(r.data) {
		return fmt.Errorf("byte %d: more after the object", r.at)
	}
	return nil
}

// unexpected is the error for what is next when want was expected.
func (r *reader) unexpected(want string) error {
	if r.peek() == 0 && r.at == len(r.data) {
		return fmt.Errorf("unexpected end of the file, want %s", want)
	}
	return fmt.Errorf("byte %d: %s, want %s", r.at, r.describe(), want)
}

// describe names the value or character at the reader for an error.
func (r *reader) describe() string {
	rest := r.data[r.at:]
	switch c := rest[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		end := min(len(rest), 24)
		if i := bytes.IndexByte(rest[1:end], '"'); i >= 0 {
			end = i + 2
		}
		return "the string " + string(rest[:end])
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(rest, []byte(lit)) {
			return lit
		}
	}
	c, _ := utf8.DecodeRune(rest)
	return fmt.Sprintf("%q", c)
}
