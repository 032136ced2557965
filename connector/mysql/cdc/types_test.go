package cdc

import (
	"reflect"
	"testing"
	"time"
)

// TestTypes reads the same values from the snapshot and from the binlog:
// both give the documented Go values.
func TestTypes(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, `id INT PRIMARY KEY,
		ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
		ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
		de DECIMAL(12,3), fl FLOAT, db DOUBLE, vc VARCHAR(20), ch CHAR(5), tx TEXT, bl BLOB, vb VARBINARY(8),
		da DATE, dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME, yr YEAR, js JSON, en ENUM('a','b''c','d'), st SET('x','y','z'),
		bt BIT(12), nu INT NULL`)
	values := `-128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
		-123456789.125, 1.5, 2.25, 'héllo', 'ab', 'long text', x'00ff10', x'0102',
		'2024-02-29', '2024-02-29 13:14:15.123456', '2024-03-01 00:00:01.500', '-12:30:00', 2024, '{"a": [1, 2]}', 'b''c', 'x,z',
		b'101000000001', NULL`
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, "+values+")")
	d := startDirect(t, Options{Addr: addr, Tables: []string{table}}, nil)
	var snap, bin []any
	d.until(func(s state) bool { return s.Table == 1 }, func(c Change) { snap = c.After })
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, "+values+")")
	d.until(func(state) bool { return bin != nil }, func(c Change) { bin = c.After })
	want := []any{int64(1),
		int64(-128), uint64(255), int64(-32768), uint64(65535), int64(-8388608), uint64(16777215),
		int64(-2147483648), uint64(4294967295), int64(-9223372036854775808), uint64(18446744073709551615),
		"-123456789.125", 1.5, 2.25, "héllo", "ab", "long text", []byte{0, 0xff, 0x10}, []byte{1, 2},
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 1, 500e6, time.UTC), "-12:30:00", int64(2024), `{"a": [1, 2]}`, "b'c", "x,z",
		uint64(0b101000000001), nil}
	if !reflect.DeepEqual(snap, want) {
		t.Errorf("snapshot:\n got %#v\nwant %#v", snap, want)
	}
	want[0] = int64(2)
	if !reflect.DeepEqual(bin, want) {
		t.Errorf("binlog:\n got %#v\nwant %#v", bin, want)
	}
}
