package connector

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/jackc/pgx/v5/pgtype"
)

// A partitioned scan resumes each split by the number of rows it emitted,
// so a restore is only right if the split's query returns the same rows in
// the same order as before. Besides the split count and bounds, the
// checkpoint holds a fingerprint of what else determines that sequence:
// the partition column's name, hashes of the pushed-down filters (the
// WHERE conditions and their arguments), of the ORDER BY, and of each
// split's query without its select list (FROM, every WHERE condition with
// the split's range, arguments, ORDER BY). A restore where one of them
// changed is refused naming it, as for changed split counts and bounds.
// The select list is left out: which columns are read does not change
// which rows are, nor their order.
//
// Items of version 1 (written before the fingerprint) have none: they are
// restored as before, unchecked.

// jdbcPartFP is a partitioned scan's fingerprint.
type jdbcPartFP struct {
	column         string
	filters, order uint64
	splits         []uint64 // per split
}

// newPartScan returns the partitioned scan of the source's splits with
// its fingerprint: selectFrom, from and orderBy as scanClauses returns
// them, conds and args the pushed-down filters.
func (s *jdbcSource) newPartScan(selectFrom, from, orderBy string, conds []string, args []any) *jdbcPartScan {
	queries := s.partitionQueries(selectFrom, orderBy, conds, args)
	fp := &jdbcPartFP{column: s.schema.Columns[s.part.col].Name, order: fpHash([]string{orderBy}, nil)}
	fp.filters = fpHash(conds, args)
	for _, q := range queries {
		// q.sql is selectFrom followed by the WHERE and ORDER BY.
		fp.splits = append(fp.splits, fpHash([]string{from, q.sql[len(selectFrom):]}, q.args))
	}
	return &jdbcPartScan{t: s.jdbcTable, part: s.part, queries: queries, fp: fp}
}

// fpHash hashes texts and arguments (each length-prefixed).
func fpHash(texts []string, args []any) uint64 {
	h := fnv.New64a()
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put(fmt.Sprint(len(texts), len(args)))
	for _, t := range texts {
		put(t)
	}
	for _, a := range args {
		put(fpArg(a))
	}
	return h.Sum64()
}

// fpArg is a query argument's text for fpHash: its type and value.
func fpArg(a any) string {
	switch x := a.(type) {
	case pgtype.Numeric:
		if x.Int == nil {
			return fmt.Sprintf("numeric:%v", x.Valid)
		}
		return fmt.Sprintf("numeric:%se%d", x.Int, x.Exp)
	case float64:
		return fmt.Sprintf("float64:%x", math.Float64bits(x))
	case []byte:
		return fmt.Sprintf("bytes:%x", x)
	}
	return fmt.Sprintf("%T:%v", a, a)
}

// split returns split id's fingerprint (0 for a scan without one).
func (fp *jdbcPartFP) split(id int) uint64 {
	if fp == nil || id >= len(fp.splits) {
		return 0
	}
	return fp.splits[id]
}

// appendFP appends the fingerprint of split id to a checkpoint item.
func (s *jdbcPartScan) appendFP(b []byte, id int) []byte {
	fp := s.fp
	if fp == nil {
		fp = &jdbcPartFP{}
	}
	b = binary.AppendUvarint(b, uint64(len(fp.column)))
	b = append(b, fp.column...)
	b = binary.BigEndian.AppendUint64(b, fp.filters)
	b = binary.BigEndian.AppendUint64(b, fp.order)
	return binary.BigEndian.AppendUint64(b, fp.split(id))
}

// checkFP reads the fingerprint of split id from b (all of what is left of
// the item) and compares it with this scan's; ok is false if b is not one.
func (s *jdbcPartScan) checkFP(b []byte, id int) (ok bool, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || len(b)-k < 24 || uint64(len(b)-k-24) != n {
		return false, nil
	}
	column := string(b[k : k+int(n)])
	b = b[k+int(n):]
	filters, order, split := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])
	fp := s.fp
	if fp == nil {
		fp = &jdbcPartFP{}
	}
	const why = "each split resumes by the number of rows it emitted, which over other rows would duplicate or lose rows (restore with the checkpoint's options and query, or start the job afresh)"
	switch {
	case column != fp.column:
		return true, fmt.Errorf("connector: jdbc source %s: the checkpoint's partitioned scan was split on column %q, this one on %q: the option 'scan.partition.column' changed; %s", s.t.table, column, fp.column, why)
	case filters != fp.filters:
		return true, fmt.Errorf("connector: jdbc source %s: the filters pushed down into the partitioned scan's queries (the query's WHERE conditions on this table) changed since the checkpoint; %s", s.t.table, why)
	case order != fp.order:
		return true, fmt.Errorf("connector: jdbc source %s: the partitioned scan's order (ORDER BY the PRIMARY KEY, or every column without one) changed since the checkpoint; %s", s.t.table, why)
	case split != fp.split(id):
		return true, fmt.Errorf("connector: jdbc source %s: the query of split %d changed since the checkpoint (the option 'table-name', or the type of the 'scan.partition.column' column); %s", s.t.table, id, why)
	}
	return true, nil
}
