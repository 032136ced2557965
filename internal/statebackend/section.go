package statebackend

import (
	"encoding/binary"
	"fmt"

	"github.com/weirstream/weir/codec"
)

// Sections: a canonical key-group block is a sequence of sections, one per
// state (docs/format/checkpoint.md):
//
//	uvarint len, name | kind byte | uvarint len, schema | uvarint len, body

// AppendSection appends a canonical snapshot section to dst.
func AppendSection(dst []byte, name string, kind byte, schema string, body []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	dst = append(dst, kind)
	dst = binary.AppendUvarint(dst, uint64(len(schema)))
	dst = append(dst, schema...)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

func readBytes(src []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || uint64(len(src)-k) < n {
		return nil, nil, fmt.Errorf("%w: section", codec.ErrCorrupt)
	}
	return src[k : k+int(n)], src[k+int(n):], nil
}

// ReadSection reads the section at the start of src.
func ReadSection(src []byte) (name string, kind byte, schema string, body, rest []byte, err error) {
	nb, src, err := readBytes(src)
	if err != nil {
		return
	}
	if len(src) < 1 {
		err = fmt.Errorf("%w: section kind", codec.ErrCorrupt)
		return
	}
	kind, src = src[0], src[1:]
	sb, src, err := readBytes(src)
	if err != nil {
		return
	}
	body, rest, err = readBytes(src)
	return string(nb), kind, string(sb), body, rest, err
}
