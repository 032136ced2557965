package plan

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
)

// ResolveType turns a data type as written into a logical type, with
// Flink's SQL defaults: VARCHAR and VARBINARY without a length are STRING
// and BYTES, CHAR and BINARY default to length 1, DECIMAL to (10, 0), TIME
// to precision 0, TIMESTAMP and TIMESTAMP_LTZ to precision 6.
func ResolveType(d *ast.DataType) (row.Type, error) {
	t, err := resolveType(d)
	if err != nil {
		return row.Type{}, err
	}
	if d.NotNull {
		t = t.NotNull()
	}
	return t, nil
}

func param(d *ast.DataType, i, def int) int {
	if i < len(d.Params) {
		return d.Params[i]
	}
	return def
}

func resolveType(d *ast.DataType) (row.Type, error) {
	if d.UserName != nil {
		return row.Type{}, fmt.Errorf("sql: %s: unknown type %s", pos(d.Pos), d.UserName)
	}
	bad := func(what string) (row.Type, error) {
		return row.Type{}, fmt.Errorf("sql: %s: %s: %s", pos(d.Pos), d, what)
	}
	switch d.Name {
	case "BOOLEAN":
		return row.Boolean(), nil
	case "TINYINT":
		return row.TinyInt(), nil
	case "SMALLINT":
		return row.SmallInt(), nil
	case "INT", "INTEGER":
		return row.IntType(), nil
	case "BIGINT":
		return row.BigInt(), nil
	case "FLOAT", "REAL":
		return row.FloatType(), nil
	case "DOUBLE":
		return row.Double(), nil
	case "DECIMAL", "DEC", "NUMERIC":
		p, s := param(d, 0, 10), param(d, 1, 0)
		if p < 1 || p > row.MaxDecimalPrecision || s < 0 || s > p {
			return bad(fmt.Sprintf("precision must be 1..%d and scale 0..precision", row.MaxDecimalPrecision))
		}
		return row.DecimalType(p, s), nil
	case "CHAR", "CHARACTER":
		n := param(d, 0, 1)
		if n < 1 {
			return bad("length must be at least 1")
		}
		return row.Char(n), nil
	case "VARCHAR":
		n := param(d, 0, row.MaxLength)
		if n < 1 {
			return bad("length must be at least 1")
		}
		return row.VarChar(n), nil
	case "STRING":
		return row.String(), nil
	case "BINARY":
		n := param(d, 0, 1)
		if n < 1 {
			return bad("length must be at least 1")
		}
		return row.Binary(n), nil
	case "VARBINARY":
		return row.VarBinary(param(d, 0, row.MaxLength)), nil
	case "BYTES":
		return row.BytesType(), nil
	case "DATE":
		return row.DateType(), nil
	case "VARIANT":
		return row.VariantType(), nil
	case "TIME":
		p := param(d, 0, 0)
		if p < 0 || p > 9 {
			return bad("precision must be 0..9")
		}
		return row.TimeType(p), nil
	case "TIMESTAMP", "TIMESTAMP_LTZ":
		p := param(d, 0, 6)
		if p < 0 || p > 9 {
			return bad("precision must be 0..9")
		}
		if d.Name == "TIMESTAMP_LTZ" || d.WithLocalTimeZone {
			return row.TimestampLTZType(p), nil
		}
		return row.TimestampType(p), nil
	case "INTERVAL":
		switch d.IntervalFrom {
		case "YEAR", "MONTH":
			return row.IntervalYearMonth(), nil
		}
		t := row.IntervalDayTime()
		return t, nil
	case "ARRAY":
		if len(d.Elem) != 1 {
			return bad("ARRAY needs one element type")
		}
		e, err := ResolveType(d.Elem[0])
		if err != nil {
			return row.Type{}, err
		}
		return row.ArrayType(e), nil
	case "MULTISET":
		if len(d.Elem) != 1 {
			return bad("MULTISET needs one element type")
		}
		e, err := ResolveType(d.Elem[0])
		if err != nil {
			return row.Type{}, err
		}
		return row.MultisetType(e), nil
	case "MAP":
		if len(d.Elem) != 2 {
			return bad("MAP needs a key and a value type")
		}
		k, err := ResolveType(d.Elem[0])
		if err != nil {
			return row.Type{}, err
		}
		v, err := ResolveType(d.Elem[1])
		if err != nil {
			return row.Type{}, err
		}
		return row.MapType(k, v), nil
	case "ROW":
		fs := make([]row.Field, len(d.Fields))
		for i, f := range d.Fields {
			t, err := ResolveType(f.Type)
			if err != nil {
				return row.Type{}, err
			}
			fs[i] = row.Field{Name: f.Name.Name, Type: t}
		}
		return row.RowType(fs...), nil
	case "NULL":
		return row.NullType(), nil
	}
	return bad("type not supported")
}

func pos(p ast.Pos) string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }
