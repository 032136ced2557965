package exec

import (
	"encoding/binary"
	"fmt"

	wcodec "github.com/weirstream/weir/codec"
)

// distinctKey is the key of a shared DISTINCT entry (state
// "group-distinct-shared"). Its state bytes are those of the string key
// it replaced (uvarint length, then the view's index as a uvarint and the
// argument tuple), and its schema is the string's, so snapshots written
// with string keys restore unchanged and the other way round.
//
// In memory a key is held in one of two forms, chosen from its bytes
// alone so that a key built from a row and the same key decoded from a
// snapshot (which knows no argument types) are equal Go values:
//
//   - typed: the bytes are a one-byte canonical view index, the non-NULL
//     flag 1, and a canonical varint that ends them (one integer
//     argument: TINYINT to BIGINT). s is the one-byte view index and n
//     the integer. Such a key needs no string of its own, so a Put of a
//     new or existing entry allocates nothing for its key.
//   - bytes: anything else. s is the whole encoded key (at least two
//     bytes: the index and a flag), n is 0.
//
// A one-byte s is thus always the typed form.
type distinctKey struct {
	s string
	n int64
}

// typedMarks holds the one-byte strings of view indexes 0..127, so a
// typed key's s is never a string of its own.
var typedMarks = func() (m [128]string) {
	for i := range m {
		m[i] = string(rune(i))
	}
	return m
}()

// distinctKeyOf returns the key whose encoding is b, and false if no
// key encodes to b (fewer than two bytes). A bytes-form key gets a copy
// of b.
func distinctKeyOf(b []byte) (distinctKey, bool) {
	if n, ok := typedInt(b); ok {
		return distinctKey{s: typedMarks[b[0]], n: n}, true
	}
	if len(b) < 2 {
		return distinctKey{}, false
	}
	return distinctKey{s: string(b)}, true
}

// typedInt reports whether b is the typed form's encoding, and its
// integer.
func typedInt(b []byte) (int64, bool) {
	if len(b) < 3 || b[0] >= 0x80 || b[1] != 1 {
		return 0, false
	}
	n, k := binary.Varint(b[2:])
	if k <= 0 || 2+k != len(b) || varintLen(n) != k {
		return 0, false
	}
	return n, true
}

// varintLen is the length of binary.AppendVarint's encoding of n.
func varintLen(n int64) int {
	u := uint64(n) << 1
	if n < 0 {
		u = ^u
	}
	k := 1
	for u >= 0x80 {
		u >>= 7
		k++
	}
	return k
}

// appendKey appends the key's bytes (without the length).
func (k distinctKey) appendKey(dst []byte) []byte {
	if len(k.s) != 1 {
		return append(dst, k.s...)
	}
	return binary.AppendVarint(append(dst, k.s[0], 1), k.n)
}

// AppendState encodes the key as the string codec encoded its bytes.
func (k distinctKey) AppendState(dst []byte) []byte {
	if len(k.s) != 1 {
		dst = binary.AppendUvarint(dst, uint64(len(k.s)))
		return append(dst, k.s...)
	}
	dst = binary.AppendUvarint(dst, uint64(2+varintLen(k.n)))
	return k.appendKey(dst)
}

// DecodeState decodes a key encoded by AppendState (or by the string
// codec).
func (k *distinctKey) DecodeState(src []byte) (int, error) {
	l, w := binary.Uvarint(src)
	if w <= 0 || l > uint64(len(src)-w) {
		return 0, fmt.Errorf("sql/exec: group aggregate: DISTINCT key: %w", wcodec.ErrCorrupt)
	}
	key, ok := distinctKeyOf(src[w : w+int(l)])
	if !ok {
		return 0, fmt.Errorf("sql/exec: group aggregate: DISTINCT key of %d bytes: %w", l, wcodec.ErrCorrupt)
	}
	*k = key
	return w + int(l), nil
}

// StateSchema is the string key's schema: the bytes are the same.
func (distinctKey) StateSchema() string { return wcodec.Schema[string]() }
