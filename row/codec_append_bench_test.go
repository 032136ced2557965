package row

import "testing"

// BenchmarkCodecAppend encodes a Nexmark bid row (auction, bidder, price,
// channel, url, dateTime, extra), as a regular join stores each input row.
func BenchmarkCodecAppend(b *testing.B) {
	types := []Type{BigInt(), BigInt(), BigInt(), String(), String(), TimestampType(3), String()}
	r := Row{Fields: []Value{Int(1001), Int(2002), Int(31415), Str("Google"), Str("https://www.nexmark.com/abc/def/item.htm?query=1&channel_id=1234"), Timestamp(1700000000123, 0), Str("kdjfhgkjdfhgkdjfhgkjdfhg")}}
	c := NewCodec(types)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = c.Append(buf[:0], r)
	}
}

// BenchmarkCodecDecodeString decodes the bid row of BenchmarkCodecAppend
// with its strings shared, as a regular join reads a stored row.
func BenchmarkCodecDecodeString(b *testing.B) {
	types := []Type{BigInt(), BigInt(), BigInt(), String(), String(), TimestampType(3), String()}
	r := Row{Fields: []Value{Int(1001), Int(2002), Int(31415), Str("Google"), Str("https://www.nexmark.com/abc/def/item.htm?query=1&channel_id=1234"), Timestamp(1700000000123, 0), Str("kdjfhgkjdfhgkdjfhgkjdfhg")}}
	c := NewCodec(types)
	enc := string(c.Append(nil, r))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.DecodeString(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecDecode decodes the bid row of BenchmarkCodecAppend, as
// Top-N, deduplication and restores read a stored row.
func BenchmarkCodecDecode(b *testing.B) {
	types := []Type{BigInt(), BigInt(), BigInt(), String(), String(), TimestampType(3), String()}
	r := Row{Fields: []Value{Int(1001), Int(2002), Int(31415), Str("Google"), Str("https://www.nexmark.com/abc/def/item.htm?query=1&channel_id=1234"), Timestamp(1700000000123, 0), Str("kdjfhgkjdfhgkdjfhgkjdfhg")}}
	c := NewCodec(types)
	enc := c.Append(nil, r)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
