package connector

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// The scan of one query resumes by the number of rows it emitted, which is
// only right if the query returns the same rows in the same order as when
// the checkpoint was taken. Its checkpoint item (version 2) holds, after
// the position, a fingerprint of what determines that sequence: hashes of
// the pushed-down filters (WHERE conditions and their arguments), of the
// ORDER BY, and of the query without its select list (FROM, WHERE,
// arguments, ORDER BY). A restore where one of them changed is refused
// naming it; which columns are read may change.
//
// Item layouts:
//
//	version 1: uvarint(emitted)                      (the whole item)
//	version 2: uvarint(emitted+1) filters order query (3 x 8 bytes, big endian)
//
// A version-2 item never starts with a zero byte (the uvarint of a
// positive number), which keeps it apart from a partitioned scan's items;
// a version-1 item is restored unchecked, as before.

// newOneScan returns the scan of one query with its fingerprint:
// selectFrom, from and orderBy as scanClauses returns them, conds and args
// the pushed-down filters.
func (s *jdbcSource) newOneScan(selectFrom, from, orderBy string, conds []string, args []any) *jdbcScan {
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	q := selectFrom + where + orderBy
	src := &jdbcScan{t: s.jdbcTable, fp: newScanFP(from, where, orderBy, conds, args)}
	if s.mysql != nil {
		src.open = s.mysqlOpenScan(q, args)
	} else {
		src.open = s.pgOpenScan(q, args)
	}
	return src
}

// jdbcScanFP is the fingerprint of a scan of one query.
type jdbcScanFP struct {
	filters, order, query uint64
}

// newScanFP returns the fingerprint of the query selectFrom+where+orderBy
// over from, with the pushed-down conditions conds and arguments args.
func newScanFP(from, where, orderBy string, conds []string, args []any) *jdbcScanFP {
	return &jdbcScanFP{
		filters: fpHash(conds, args),
		order:   fpHash([]string{orderBy}, nil),
		query:   fpHash([]string{from, where + orderBy}, args),
	}
}

// jdbcScanFPLen is the length of a fingerprint in a checkpoint item.
const jdbcScanFPLen = 24

// encodeScanPosition returns the checkpoint item of a scan of one query
// that emitted n rows.
func (s *jdbcScan) encodeScanPosition(n int64) []byte {
	fp := s.fp
	if fp == nil {
		fp = &jdbcScanFP{}
	}
	b := binary.AppendUvarint(nil, uint64(n)+1)
	b = binary.BigEndian.AppendUint64(b, fp.filters)
	b = binary.BigEndian.AppendUint64(b, fp.order)
	return binary.BigEndian.AppendUint64(b, fp.query)
}

// decodeScanPosition returns the number of rows emitted that the
// checkpoint item it holds, after checking its fingerprint (if it has one)
// against this scan's.
func (s *jdbcScan) decodeScanPosition(it []byte) (int64, error) {
	table := s.t.table
	n, k := binary.Uvarint(it)
	switch {
	case k <= 0:
		return 0, fmt.Errorf("connector: jdbc source %s: corrupt position in the checkpoint", table)
	case k == len(it):
		return int64(n), nil // version 1
	case len(it)-k != jdbcScanFPLen || n == 0:
		return 0, fmt.Errorf("connector: jdbc source %s: corrupt position in the checkpoint", table)
	}
	b := it[k:]
	filters, order, query := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])
	fp := s.fp
	if fp == nil {
		fp = &jdbcScanFP{}
	}
	const why = "the scan resumes by the number of rows it emitted, which over other rows would duplicate or lose rows (restore with the checkpoint's query, or start the job afresh)"
	switch {
	case filters != fp.filters:
		return 0, fmt.Errorf("connector: jdbc source %s: the filters pushed down into the scan's query (the query's WHERE conditions on this table) changed since the checkpoint; %s", table, why)
	case order != fp.order:
		return 0, fmt.Errorf("connector: jdbc source %s: the scan's order (ORDER BY the PRIMARY KEY, or every column without one) changed since the checkpoint; %s", table, why)
	case query != fp.query:
		return 0, fmt.Errorf("connector: jdbc source %s: the scan's query changed since the checkpoint (the option 'table-name'); %s", table, why)
	}
	return int64(n - 1), nil
}
