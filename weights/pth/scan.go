package pth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// scanPickle walks the opcodes of the pickle that starts at data[0] and
// returns its length (up to and including STOP). It checks that every
// length-prefixed argument fits in the bytes that are really there.
//
// This exists because the unpickler allocates each length-prefixed argument
// before reading it, so a corrupt length of a few GB would make it allocate
// a few GB, a fatal error that recover cannot catch. Scanning first costs
// one pass over a few kilobytes and makes every allocation bounded by the
// file's size. No library offers this check, so it is written here; the
// opcode table follows Python's pickletools.
func scanPickle(data []byte) (int, error) {
	pos := 0
	need := func(n uint64) error {
		if n > uint64(len(data)-pos) {
			return fmt.Errorf("pickle: argument of %d bytes at offset %d runs past the end (%d bytes left)", n, pos, len(data)-pos)
		}
		return nil
	}
	// lengthPrefixed skips a little-endian length of width bytes and the data it announces.
	lengthPrefixed := func(width int) error {
		if err := need(uint64(width)); err != nil {
			return err
		}
		var n uint64
		switch width {
		case 1:
			n = uint64(data[pos])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(data[pos:]))
		case 8:
			n = binary.LittleEndian.Uint64(data[pos:])
		}
		pos += width
		if err := need(n); err != nil {
			return err
		}
		pos += int(n)
		return nil
	}
	// lines skips n newline-terminated text arguments.
	lines := func(n int) error {
		for range n {
			i := bytes.IndexByte(data[pos:], '\n')
			if i < 0 {
				return fmt.Errorf("pickle: unterminated text argument at offset %d", pos)
			}
			pos += i + 1
		}
		return nil
	}
	for pos < len(data) {
		op := data[pos]
		pos++
		var err error
		switch op {
		case '.': // STOP
			return pos, nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// No argument.
		case 'K', 'h', 'q', 0x80, 0x82: // BININT1, BINGET, BINPUT, PROTO, EXT1
			err = need(1)
			pos++
		case 'M', 0x83: // BININT2, EXT2
			err = need(2)
			pos += 2
		case 'J', 'j', 'r', 0x84: // BININT, LONG_BINGET, LONG_BINPUT, EXT4
			err = need(4)
			pos += 4
		case 'G': // BINFLOAT
			err = need(8)
			pos += 8
		case 0x95: // FRAME: an 8-byte length; the frame's opcodes follow inline.
			if err = need(8); err == nil {
				n := binary.LittleEndian.Uint64(data[pos:])
				pos += 8
				err = need(n)
			}
		case 'U', 'C', 0x8a, 0x8c: // SHORT_BINSTRING, SHORT_BINBYTES, LONG1, SHORT_BINUNICODE
			err = lengthPrefixed(1)
		case 'T', 'X', 'B', 0x8b: // BINSTRING, BINUNICODE, BINBYTES, LONG4
			err = lengthPrefixed(4)
		case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
			err = lengthPrefixed(8)
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p': // text arguments
			err = lines(1)
		case 'c', 'i': // GLOBAL, INST: module and name
			err = lines(2)
		default:
			return 0, fmt.Errorf("pickle: unknown opcode 0x%02x at offset %d", op, pos-1)
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, errors.New("pickle: no STOP opcode before the end of the data")
}
