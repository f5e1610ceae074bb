package weights

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nlpodyssey/safetensors"
)

// This file reads a safetensors header with a small parser for that one
// shape of JSON, written by hand. It follows the safetensors library's
// rules (FuzzHeader checks that it accepts nothing safetensors.ReadMetadata
// rejects, and reads what it accepts the same way), but the library
// decodes the header through encoding/json's reflection, and general JSON
// libraries such as fastjson cost a browser's first load too much: in
// Chromium, a model's first load runs lazily compiled code, and fastjson
// took 10-35 ms of the worker's load to parse a 14 KB header (about 2,100
// allocations, 465 KB), while V8 spent over 100 ms of CPU optimizing its
// large parsing functions on a 2-core machine the first prediction keeps
// busy. This parser allocates only what the header holds.

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
	type located struct {
		name       string
		info       tensorInfo
		begin, end uint64
	}
	var list []located
	h := header{tensors: map[string]tensorInfo{}}
	p := headerParser{text: data[8 : 8+n]}
	seen := map[string]bool{}
	err := p.object(func(key []byte) error {
		name := string(key)
		if seen[name] {
			return errTwice
		}
		seen[name] = true
		if name == "__metadata__" {
			md, err := p.metadata()
			h.metadata = md
			return err
		}
		t, begin, end, err := p.tensor()
		list = append(list, located{name, t, begin, end})
		return err
	})
	if err == nil {
		err = p.end()
	}
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

// errTwice is the error for a key an object gives twice: JSON leaves its
// meaning open, so it is rejected.
var errTwice = errors.New("key given twice")

// headerParser reads the JSON of a safetensors header, stricter than
// encoding/json only where JSON or the format leave room: a key given
// twice, text that is not UTF-8, an unpaired UTF-16 surrogate escape,
// null for a value, or a key the format does not have.
type headerParser struct {
	text []byte
	at   int // the next byte to read
}

// metadata reads the "__metadata__" object: strings by name.
func (p *headerParser) metadata() (map[string]string, error) {
	md := map[string]string{}
	err := p.object(func(key []byte) error {
		if _, twice := md[string(key)]; twice {
			return errTwice
		}
		s, err := p.string()
		md[string(key)] = string(s)
		return err
	})
	return md, err
}

// tensor reads {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}.
func (p *headerParser) tensor() (t tensorInfo, begin, end uint64, err error) {
	var dtype, shape, offsets bool
	err = p.object(func(key []byte) error {
		switch string(key) {
		case "dtype":
			if dtype {
				return errTwice
			}
			dtype = true
			s, err := p.string()
			if err == nil {
				t.dtype, err = safetensors.ParseDType(string(s))
			}
			return err
		case "shape":
			if shape {
				return errTwice
			}
			shape = true
			var err error
			t.shape, err = p.uints(make([]uint64, 0, 4))
			return err
		case "data_offsets":
			if offsets {
				return errTwice
			}
			offsets = true
			o, err := p.uints(make([]uint64, 0, 2))
			switch {
			case err != nil:
				return err
			case len(o) != 2:
				return fmt.Errorf("%d values, want 2", len(o))
			}
			begin, end = o[0], o[1]
			return nil
		}
		return errUnknownKey
	})
	if err == nil && !(dtype && shape && offsets) {
		err = fmt.Errorf("want the keys dtype, shape and data_offsets")
	}
	return t, begin, end, err
}

// object reads a JSON object, calling field with each key once the
// parser is at the key's value, which field reads. field's error is
// returned with the key.
func (p *headerParser) object(field func(key []byte) error) error {
	if err := p.byte('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.at++
		return nil
	}
	for {
		key, err := p.string()
		if err != nil {
			return err
		}
		if err := p.byte(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		switch p.peek() {
		case ',':
			p.at++
		case '}':
			p.at++
			return nil
		default:
			return p.unexpected("',' or '}'")
		}
	}
}

// uints reads an array of unsigned integers, appended to out (which is
// not nil: the shape of a scalar is []).
func (p *headerParser) uints(out []uint64) ([]uint64, error) {
	if err := p.byte('['); err != nil {
		return nil, err
	}
	if p.peek() == ']' {
		p.at++
		return out, nil
	}
	for {
		u, err := p.uint()
		if err != nil {
			return nil, err
		}
		out = append(out, u)
		switch p.peek() {
		case ',':
			p.at++
		case ']':
			p.at++
			return out, nil
		default:
			return nil, p.unexpected("',' or ']'")
		}
	}
}

// uint reads a JSON number that is an unsigned integer of 64 bits: no
// sign, fraction or exponent, as encoding/json reads one into a uint64.
func (p *headerParser) uint() (uint64, error) {
	p.space()
	start := p.at
	var u uint64
	for ; p.at < len(p.text) && '0' <= p.text[p.at] && p.text[p.at] <= '9'; p.at++ {
		d := uint64(p.text[p.at] - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, p.errorf("a number overflows 64 bits")
		}
		u = u*10 + d
	}
	switch {
	case p.at == start:
		return 0, p.unexpected("an unsigned integer")
	case p.text[start] == '0' && p.at-start > 1:
		return 0, p.errorf("JSON numbers have no leading zeros: %s", p.text[start:p.at])
	case p.at < len(p.text) && (p.text[p.at] == '.' || p.text[p.at] == 'e' || p.text[p.at] == 'E'):
		return 0, p.errorf("want an unsigned integer, not a fraction or an exponent")
	}
	return u, nil
}

// string reads a JSON string, which must be valid UTF-8. Without
// escapes it is a slice of the header's text.
func (p *headerParser) string() ([]byte, error) {
	if err := p.byte('"'); err != nil {
		return nil, err
	}
	start := p.at
	for ; p.at < len(p.text); p.at++ {
		switch c := p.text[p.at]; {
		case c == '"':
			s := p.text[start:p.at]
			p.at++
			if !utf8.Valid(s) {
				return nil, fmt.Errorf("%q is not UTF-8", s)
			}
			return s, nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return nil, p.errorf("control character %q in a string", c)
		}
	}
	return nil, p.errorf("a string does not end")
}

// escapedString reads the rest of a string that starts at start and has
// an escape at p.at.
func (p *headerParser) escapedString(start int) ([]byte, error) {
	s := append([]byte(nil), p.text[start:p.at]...)
	raw := start // where the text since the last escape begins
	for p.at < len(p.text) {
		c := p.text[p.at]
		switch {
		case c == '"' || c == '\\':
			// Escapes are ASCII, so the text between them must be UTF-8
			// on its own, as encoding/json reads it.
			if !utf8.Valid(p.text[raw:p.at]) {
				return nil, fmt.Errorf("%q is not UTF-8", p.text[start:p.at])
			}
		case c < 0x20:
			return nil, p.errorf("control character %q in a string", c)
		}
		if c == '"' {
			p.at++
			return s, nil
		}
		if c != '\\' {
			s = append(s, c)
			p.at++
			continue
		}
		if p.at+1 == len(p.text) {
			break
		}
		e := p.text[p.at+1]
		p.at += 2
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
			r, err := p.codeUnit()
			if err != nil {
				return nil, err
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by the escape of a low one
				// is a character; encoding/json would read anything else as
				// U+FFFD, which no real name holds.
				low := rune(-1)
				if r < 0xdc00 && p.at+2 <= len(p.text) && p.text[p.at] == '\\' && p.text[p.at+1] == 'u' {
					p.at += 2
					if low, err = p.codeUnit(); err != nil {
						return nil, err
					}
				}
				if !isLowSurrogate(low) {
					return nil, p.errorf("unpaired surrogate \\u%04x in a string", r)
				}
				r = utf16.DecodeRune(r, low)
			}
			s = utf8.AppendRune(s, r)
		default:
			return nil, p.errorf("invalid escape \\%c in a string", e)
		}
		raw = p.at
	}
	return nil, p.errorf("a string does not end")
}

// codeUnit reads the 4 hex digits of a \u escape as a UTF-16 code unit.
func (p *headerParser) codeUnit() (rune, error) {
	if p.at+4 > len(p.text) {
		return 0, p.errorf("\\u wants 4 hex digits")
	}
	var r rune
	for _, c := range p.text[p.at : p.at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, p.errorf("\\u wants 4 hex digits")
		}
	}
	p.at += 4
	return r, nil
}

func isLowSurrogate(r rune) bool { return r >= 0xdc00 && r < 0xe000 }

// byte skips whitespace and reads c.
func (p *headerParser) byte(c byte) error {
	if p.peek() != c {
		return p.unexpected(fmt.Sprintf("%q", c))
	}
	p.at++
	return nil
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (p *headerParser) peek() byte {
	p.space()
	if p.at == len(p.text) {
		return 0
	}
	return p.text[p.at]
}

// space skips JSON whitespace.
func (p *headerParser) space() {
	for p.at < len(p.text) {
		switch p.text[p.at] {
		case ' ', '\t', '\n', '\r':
			p.at++
		default:
			return
		}
	}
}

// end checks that only whitespace follows the header's object (writers
// pad the header with spaces).
func (p *headerParser) end() error {
	if p.space(); p.at != len(p.text) {
		return p.errorf("the JSON object is followed by a tail (%q)", p.text[p.at])
	}
	return nil
}

func (p *headerParser) unexpected(want string) error {
	if p.at == len(p.text) {
		return p.errorf("the JSON ends where %s should be", want)
	}
	return p.errorf("want %s, found %q", want, p.text[p.at])
}

func (p *headerParser) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d of its JSON: %s", p.at, fmt.Sprintf(format, args...))
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
