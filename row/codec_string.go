package row

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// DecodeString decodes one row from the start of src, as Decode does, but
// its top-level CHAR, VARCHAR, BINARY and VARBINARY fields share src's
// bytes instead of copying them (values nested in ARRAY, ROW or MAP fields
// are copied). src is a string, never written over, so the fields stay
// valid for as long as they are referenced, wherever the row goes: a
// caller must not hand in a string made over a buffer it reuses (an
// unsafe.String of a scratch []byte). A field keeps all of src alive.
func (c *Codec) DecodeString(src string) (Row, int, error) {
	if len(src) < 1 {
		return Row{}, 0, corrupt("row kind")
	}
	k := Kind(src[0])
	if k > Delete {
		return Row{}, 0, corrupt(fmt.Sprintf("row kind %d", k))
	}
	fields, n, err := c.decodeFieldsString(src[1:])
	if err != nil {
		return Row{}, 0, err
	}
	return Row{Kind: k, Fields: fields}, n + 1, nil
}

// DecodeStringInto is DecodeString with the fields written into dst
// instead of a new slice: dst must have room for the codec's fields
// (len(dst) >= the number of its types; the returned row's Fields is
// dst[:that number], capacity included). Fields are shared with src as
// DecodeString's are; dst's old elements in that range are overwritten
// (NULL fields too).
func (c *Codec) DecodeStringInto(dst []Value, src string) (Row, int, error) {
	if len(dst) < len(c.types) {
		return Row{}, 0, fmt.Errorf("row: DecodeStringInto: room for %d fields, the row has %d", len(dst), len(c.types))
	}
	if len(src) < 1 {
		return Row{}, 0, corrupt("row kind")
	}
	k := Kind(src[0])
	if k > Delete {
		return Row{}, 0, corrupt(fmt.Sprintf("row kind %d", k))
	}
	b := unsafe.Slice(unsafe.StringData(src[1:]), len(src)-1) // only read
	n, off, bitmap, err := fieldsHeader(b, len(c.types))
	if err != nil {
		return Row{}, 0, err
	}
	fields := dst[:n:n]
	off, err = c.fillFieldsString(fields, src[1:], b, off, bitmap)
	if err != nil {
		return Row{}, 0, err
	}
	return Row{Kind: k, Fields: fields}, off + 1, nil
}

// decodeFieldsString is decodeFields for the fields of a row of c, with
// strings shared with src.
func (c *Codec) decodeFieldsString(src string) ([]Value, int, error) {
	b := unsafe.Slice(unsafe.StringData(src), len(src)) // only read
	n, off, bitmap, err := fieldsHeader(b, len(c.types))
	if err != nil {
		return nil, 0, err
	}
	fields := make([]Value, n)
	off, err = c.fillFieldsString(fields, src, b, off, bitmap)
	if err != nil {
		return nil, 0, err
	}
	return fields, off, nil
}

// fillFieldsString decodes the fields of src (b is its bytes), from off
// on after the header, into fields (NULLs included); it returns the offset
// past the last field.
func (c *Codec) fillFieldsString(fields []Value, src string, b []byte, off int, bitmap []byte) (int, error) {
	for i := range fields {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			fields[i] = Value{}
			continue
		}
		t := &c.types[i]
		switch t.Root {
		case TypeChar, TypeVarChar, TypeBinary, TypeVarBinary:
			l, m := binary.Uvarint(b[off:])
			if m <= 0 || l > uint64(len(b)-off-m) {
				return 0, fmt.Errorf("field %d: %w", i, corrupt("string length"))
			}
			start := off + m
			fields[i] = Str(src[start : start+int(l)])
			off = start + int(l)
			continue
		case TypeTinyInt, TypeSmallInt, TypeInt, TypeBigInt, TypeDate, TypeTime:
			// DecodeValue's integer case, without the Type copied by value.
			x, m := binary.Varint(b[off:])
			if m <= 0 {
				return 0, fmt.Errorf("field %d: %w", i, corrupt("integer"))
			}
			fields[i] = Int(x)
			off += m
			continue
		}
		v, m, err := DecodeValue(b[off:], *t)
		if err != nil {
			return 0, fmt.Errorf("field %d: %w", i, err)
		}
		fields[i] = v
		off += m
	}
	return off, nil
}
