package weights

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader reads the two pieces of JSON a weights file holds, its
// safetensors header and its architecture, and a head file (head.go),
// whose shapes the caller knows: it reads one value at a time, as the
// caller asks for it, and never builds a tree. It follows the JSON grammar as encoding/json reads it,
// and is stricter only where JSON or the format leave room: a key given
// twice, text that is not UTF-8, an unpaired UTF-16 surrogate escape,
// null for a value, or a key the format does not have.
//
// It is written by hand because the standard library's readers cost the
// browser too much. Measured on 2026-12-07 (2-core AMD EPYC, Go 1.26.8,
// Node 20's V8 for GOOS=js), replacing this reader in readHeader and
// decodeArchitecture with each, reading the default model's int8 file:
//
//	reader                        page's wasm (bytes)   Decode in V8   Decode natively
//	this one                      3,719,016             3.8-4.1 ms     2.2-2.3 ms
//	encoding/json                 4,324,280 (+605 KB)   7.2 ms         2.5-3.2 ms
//	encoding/json/v2 (jsonv2)     5,356,897 (+1.6 MB)   6.0-7.6 ms     2.2-2.9 ms
//
// (go test -bench Decode ./weights, natively and under
// internal/wasmexec.) Earlier, fastjson took 10-35 ms of a first load in
// Chromium, whose lazily compiled code runs it, for a 14 KB header. This
// reader allocates only what the JSON holds.
type jsonReader struct {
	text []byte
	at   int // the next byte to read
}

var (
	// errTwice is the error for a key an object gives twice: JSON leaves
	// its meaning open, so it is rejected.
	errTwice = errors.New("key given twice")
	// errUnknownKey is the error for a key the format does not have.
	errUnknownKey = errors.New("unknown key")
)

// object reads a JSON object, calling field with each key once the
// reader is at the key's value, which field reads. field's error is
// returned with the key.
func (r *jsonReader) object(field func(key []byte) error) error {
	if err := r.byte('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.at++
		return nil
	}
	for {
		key, err := r.string()
		if err != nil {
			return err
		}
		if err := r.byte(':'); err != nil {
			return err
		}
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

// once has field read an object's values and makes a key given twice
// an error.
func once(field func(key []byte) error) func(key []byte) error {
	seen := map[string]bool{}
	return func(key []byte) error {
		if seen[string(key)] {
			return errTwice
		}
		seen[string(key)] = true
		return field(key)
	}
}

// array reads a JSON array, calling item to read each value.
func (r *jsonReader) array(item func() error) error {
	if err := r.byte('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.at++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
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

// readArray reads a JSON array of exactly len(dst) values with read.
func readArray[T any](r *jsonReader, dst []T, read func() (T, error)) error {
	n := 0
	err := r.array(func() error {
		v, err := read()
		if n < len(dst) {
			dst[n] = v
		}
		n++
		return err
	})
	if err == nil && n != len(dst) {
		err = fmt.Errorf("%d values, want %d", n, len(dst))
	}
	return err
}

// uint reads a JSON number that is an unsigned integer of 64 bits: no
// sign, fraction or exponent, as encoding/json reads one into a uint64.
func (r *jsonReader) uint() (uint64, error) {
	r.space()
	start := r.at
	var u uint64
	for ; r.at < len(r.text) && '0' <= r.text[r.at] && r.text[r.at] <= '9'; r.at++ {
		d := uint64(r.text[r.at] - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, r.errorf("a number overflows 64 bits")
		}
		u = u*10 + d
	}
	switch {
	case r.at == start:
		return 0, r.unexpected("an unsigned integer")
	case r.text[start] == '0' && r.at-start > 1:
		return 0, r.errorf("JSON numbers have no leading zeros: %s", r.text[start:r.at])
	case r.at < len(r.text) && (r.text[r.at] == '.' || r.text[r.at] == 'e' || r.text[r.at] == 'E'):
		return 0, r.errorf("want an unsigned integer, not a fraction or an exponent")
	}
	return u, nil
}

// int reads a JSON number that is an integer of at most 32 bits, as
// every count in an architecture is.
func (r *jsonReader) int() (int, error) {
	text, err := r.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(text), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer of 32 bits", text)
	}
	return int(n), nil
}

// float reads a JSON number, rounded to a float32 or float64 (by bitSize)
// straight from its text, as encoding/json would; it must be finite.
func (r *jsonReader) float(bitSize int) (float64, error) {
	text, err := r.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(text), bitSize)
	if err != nil {
		return 0, fmt.Errorf("%s is not a finite number", text)
	}
	return f, nil
}

// number reads the text of a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) number() ([]byte, error) {
	r.space()
	start := r.at
	r.skip('-')
	switch {
	case r.skip('0'):
	case r.digits() == 0:
		return nil, r.unexpected("a number")
	}
	if r.skip('.') && r.digits() == 0 {
		return nil, r.unexpected("a digit")
	}
	if r.skip('e') || r.skip('E') {
		if !r.skip('+') {
			r.skip('-')
		}
		if r.digits() == 0 {
			return nil, r.unexpected("a digit")
		}
	}
	return r.text[start:r.at], nil
}

// digits skips decimal digits and says how many.
func (r *jsonReader) digits() int {
	start := r.at
	for r.at < len(r.text) && '0' <= r.text[r.at] && r.text[r.at] <= '9' {
		r.at++
	}
	return r.at - start
}

// skip reads c if it is the next byte (no whitespace first).
func (r *jsonReader) skip(c byte) bool {
	if r.at < len(r.text) && r.text[r.at] == c {
		r.at++
		return true
	}
	return false
}

// bool reads true or false.
func (r *jsonReader) bool() (bool, error) {
	r.space()
	switch rest := r.text[r.at:]; {
	case bytes.HasPrefix(rest, []byte("true")):
		r.at += len("true")
		return true, nil
	case bytes.HasPrefix(rest, []byte("false")):
		r.at += len("false")
		return false, nil
	}
	return false, r.unexpected("true or false")
}

// string reads a JSON string, which must be valid UTF-8. Without
// escapes it is a slice of the text.
func (r *jsonReader) string() ([]byte, error) {
	if err := r.byte('"'); err != nil {
		return nil, err
	}
	start := r.at
	for ; r.at < len(r.text); r.at++ {
		switch c := r.text[r.at]; {
		case c == '"':
			s := r.text[start:r.at]
			r.at++
			if !utf8.Valid(s) {
				return nil, fmt.Errorf("%q is not UTF-8", s)
			}
			return s, nil
		case c == '\\':
			return r.escapedString(start)
		case c < 0x20:
			return nil, r.errorf("control character %q in a string", c)
		}
	}
	return nil, r.errorf("a string does not end")
}

// escapedString reads the rest of a string that starts at start and has
// an escape at r.at.
func (r *jsonReader) escapedString(start int) ([]byte, error) {
	s := append([]byte(nil), r.text[start:r.at]...)
	raw := start // where the text since the last escape begins
	for r.at < len(r.text) {
		c := r.text[r.at]
		switch {
		case c == '"' || c == '\\':
			// Escapes are ASCII, so the text between them must be UTF-8
			// on its own, as encoding/json reads it.
			if !utf8.Valid(r.text[raw:r.at]) {
				return nil, fmt.Errorf("%q is not UTF-8", r.text[start:r.at])
			}
		case c < 0x20:
			return nil, r.errorf("control character %q in a string", c)
		}
		if c == '"' {
			r.at++
			return s, nil
		}
		if c != '\\' {
			s = append(s, c)
			r.at++
			continue
		}
		if r.at+1 == len(r.text) {
			break
		}
		e := r.text[r.at+1]
		r.at += 2
		switch e {
		case '"', '\\', '/':
			s = append(s, e)
		case 'b':
			s = append(s, '\b')
		case 'f':
			s = append(s, '\f')
		case 'n':
			s = append(s, '\n')
		case 'r':
			s = append(s, '\r')
		case 't':
			s = append(s, '\t')
		case 'u':
			c, err := r.codeUnit()
			if err != nil {
				return nil, err
			}
			if utf16.IsSurrogate(c) {
				// Only a high surrogate followed by the escape of a low one
				// is a character; encoding/json would read anything else as
				// U+FFFD, which no real name holds.
				low := rune(-1)
				if c < 0xdc00 && r.at+2 <= len(r.text) && r.text[r.at] == '\\' && r.text[r.at+1] == 'u' {
					r.at += 2
					if low, err = r.codeUnit(); err != nil {
						return nil, err
					}
				}
				if low < 0xdc00 || low >= 0xe000 {
					return nil, r.errorf("unpaired surrogate \\u%04x in a string", c)
				}
				c = utf16.DecodeRune(c, low)
			}
			s = utf8.AppendRune(s, c)
		default:
			return nil, r.errorf("invalid escape \\%c in a string", e)
		}
		raw = r.at
	}
	return nil, r.errorf("a string does not end")
}

// codeUnit reads the 4 hex digits of a \u escape as a UTF-16 code unit.
func (r *jsonReader) codeUnit() (rune, error) {
	if r.at+4 > len(r.text) {
		return 0, r.errorf("\\u wants 4 hex digits")
	}
	var c rune
	for _, h := range r.text[r.at : r.at+4] {
		switch {
		case '0' <= h && h <= '9':
			c = c<<4 | rune(h-'0')
		case 'a' <= h && h <= 'f':
			c = c<<4 | rune(h-'a'+10)
		case 'A' <= h && h <= 'F':
			c = c<<4 | rune(h-'A'+10)
		default:
			return 0, r.errorf("\\u wants 4 hex digits")
		}
	}
	r.at += 4
	return c, nil
}

// byte skips whitespace and reads c.
func (r *jsonReader) byte(c byte) error {
	if r.peek() != c {
		return r.unexpected(fmt.Sprintf("%q", c))
	}
	r.at++
	return nil
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.space()
	if r.at == len(r.text) {
		return 0
	}
	return r.text[r.at]
}

// space skips JSON whitespace.
func (r *jsonReader) space() {
	for r.at < len(r.text) {
		switch r.text[r.at] {
		case ' ', '\t', '\n', '\r':
			r.at++
		default:
			return
		}
	}
}

// end checks that only whitespace follows the value read (writers pad a
// safetensors header with spaces).
func (r *jsonReader) end() error {
	if r.space(); r.at != len(r.text) {
		return r.errorf("the JSON value is followed by a tail (%q)", r.text[r.at])
	}
	return nil
}

func (r *jsonReader) unexpected(want string) error {
	if r.at == len(r.text) {
		return r.errorf("the JSON ends where %s should be", want)
	}
	return r.errorf("want %s, found %q", want, r.text[r.at])
}

func (r *jsonReader) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d of its JSON: %s", r.at, fmt.Sprintf(format, args...))
}
