package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	jsonformat "github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// The handlers of the SQL Gateway API (docs/server.md, "SQL Gateway").
// They are served at their paths and, as Flink's, under /v2.

// gatewayPath reports whether a route belongs to the SQL Gateway API
// (and is also served under /v2).
func gatewayPath(p string) bool {
	return strings.HasPrefix(p, "/sessions") || p == "/api_versions" || p == "/info"
}

// writeGatewayError maps a gateway error to its HTTP status.
func writeGatewayError(w http.ResponseWriter, err error) {
	msg := err.Error()
	for _, e := range []error{errNotFound, errUnavailable, errBadRequest, errConflict} {
		msg = strings.TrimPrefix(msg, e.Error()+": ")
	}
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, msg)
	case errors.Is(err, errUnavailable):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, msg)
	case errors.Is(err, errBadRequest):
		writeError(w, http.StatusBadRequest, msg)
	case errors.Is(err, errConflict):
		writeError(w, http.StatusConflict, msg)
	default:
		writeError(w, http.StatusInternalServerError, msg)
	}
}

func (s *Server) getAPIVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]string{"versions": {"V2"}})
}

func (s *Server) getInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"productName": "Weir", "version": s.opts.Version})
}

// openSessionRequest is the body of POST /sessions (Flink's
// OpenSessionRequestBody).
type openSessionRequest struct {
	SessionName string            `json:"sessionName,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
}

func (s *Server) postSession(w http.ResponseWriter, r *http.Request) {
	var req openSessionRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	ss, err := s.gw.openSession(req.SessionName, req.Properties)
	if err != nil {
		writeGatewayError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sessionHandle": ss.id})
}

// gwSession returns the path's session, or writes 404.
func (s *Server) gwSession(w http.ResponseWriter, r *http.Request) *gwSession {
	ss, err := s.gw.session(r.PathValue("sessionHandle"))
	if err != nil {
		writeGatewayError(w, err)
		return nil
	}
	return ss
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	ss := s.gwSession(w, r)
	if ss == nil {
		return
	}
	props := map[string]string{}
	ss.mu.Lock()
	for _, kv := range ss.mu.sess.Config().Entries() {
		props[kv[0]] = kv[1]
	}
	ss.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"properties": props})
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sessionHandle")
	if !s.gw.closeSession(id, "closed by its client") {
		writeGatewayError(w, fmt.Errorf("%w: Session '%s' does not exist", errNotFound, id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": opClosed})
}

func (s *Server) postHeartbeat(w http.ResponseWriter, r *http.Request) {
	if s.gwSession(w, r) == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// statementRequest is the body of POST /sessions/{sessionHandle}/statements
// (Flink's ExecuteStatementRequestBody) and of configure-session
// (executionConfig not allowed there).
type statementRequest struct {
	Statement string `json:"statement"`
	// ExecutionTimeout is accepted and ignored: statements run while
	// their call is served, queries until closed.
	ExecutionTimeout *int64            `json:"executionTimeout,omitempty"`
	ExecutionConfig  map[string]string `json:"executionConfig,omitempty"`
}

func (s *Server) postStatement(w http.ResponseWriter, r *http.Request) {
	ss := s.gwSession(w, r)
	if ss == nil {
		return
	}
	var req statementRequest
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Statement) == "" {
		writeError(w, http.StatusBadRequest, `"statement" is empty: give one SQL statement`)
		return
	}
	op, err := s.gw.execute(ss, req.Statement, req.ExecutionConfig)
	if err != nil {
		writeGatewayError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"operationHandle": op.id})
}

// postConfigureSession runs a statement that configures the session (DDL,
// SET, RESET) and answers when it is done, as Flink's configure-session.
func (s *Server) postConfigureSession(w http.ResponseWriter, r *http.Request) {
	ss := s.gwSession(w, r)
	if ss == nil {
		return
	}
	var req statementRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.ExecutionConfig) > 0 {
		writeError(w, http.StatusBadRequest, `"executionConfig" applies to /statements, not to configure-session`)
		return
	}
	if err := s.gw.configure(ss, req.Statement); err != nil {
		writeGatewayError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// gwOperation returns the path's session and operation, or writes 404.
func (s *Server) gwOperation(w http.ResponseWriter, r *http.Request) (*gwSession, *gwOp) {
	ss := s.gwSession(w, r)
	if ss == nil {
		return nil, nil
	}
	id := r.PathValue("operationHandle")
	ss.mu.Lock()
	op := ss.mu.ops[id]
	ss.mu.Unlock()
	if op == nil {
		writeGatewayError(w, fmt.Errorf("%w: Can not find the submitted operation %s in session %s", errNotFound, id, ss.id))
		return nil, nil
	}
	return ss, op
}

func (s *Server) getOperationStatus(w http.ResponseWriter, r *http.Request) {
	_, op := s.gwOperation(w, r)
	if op == nil {
		return
	}
	st, _ := op.status()
	writeJSON(w, http.StatusOK, map[string]string{"status": st})
}

func (s *Server) cancelOperation(w http.ResponseWriter, r *http.Request) {
	_, op := s.gwOperation(w, r)
	if op == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": op.end(opCanceled)})
}

func (s *Server) closeOperation(w http.ResponseWriter, r *http.Request) {
	ss, op := s.gwOperation(w, r)
	if op == nil {
		return
	}
	ss.mu.Lock()
	delete(ss.mu.ops, op.id)
	ss.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"status": op.end(opClosed)})
}

// Flink's fetch response (FetchResultsResponseBody) and its parts.
type (
	fetchResponse struct {
		ResultType    string      `json:"resultType"`
		IsQueryResult bool        `json:"isQueryResult"`
		JobID         string      `json:"jobID,omitempty"`
		ResultKind    string      `json:"resultKind"`
		Results       resultsJSON `json:"results"`
		NextResultURI string      `json:"nextResultUri,omitempty"`
	}
	resultsJSON struct {
		Columns   []columnJSON `json:"columns"`
		RowFormat string       `json:"rowFormat"`
		Data      []rowJSON    `json:"data"`
	}
	columnJSON struct {
		Name        string       `json:"name"`
		LogicalType *logicalType `json:"logicalType"`
		Comment     *string      `json:"comment"`
	}
	rowJSON struct {
		Kind   string            `json:"kind"`
		Fields []json.RawMessage `json:"fields"`
	}
	// logicalType is Flink's JSON of a LogicalType (LogicalTypeJsonSerializer).
	logicalType struct {
		Type                string         `json:"type"`
		Nullable            *bool          `json:"nullable,omitempty"`
		Length              *int           `json:"length,omitempty"`
		Precision           *int           `json:"precision,omitempty"`
		Scale               *int           `json:"scale,omitempty"`
		FractionalPrecision *int           `json:"fractionalPrecision,omitempty"`
		Resolution          string         `json:"resolution,omitempty"`
		ElementType         *logicalType   `json:"elementType,omitempty"`
		KeyType             *logicalType   `json:"keyType,omitempty"`
		ValueType           *logicalType   `json:"valueType,omitempty"`
		Fields              []logicalField `json:"fields,omitempty"`
	}
	logicalField struct {
		Name      string       `json:"name"`
		FieldType *logicalType `json:"fieldType"`
	}
)

func (s *Server) getResult(w http.ResponseWriter, r *http.Request) {
	ss, op := s.gwOperation(w, r)
	if op == nil {
		return
	}
	tok := r.PathValue("token")
	token, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || token < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("token %q is not a non-negative integer", tok))
		return
	}
	format := r.URL.Query().Get("rowFormat")
	switch format {
	case "":
		format = "JSON"
	case "JSON", "PLAIN_TEXT":
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("rowFormat %q is not supported (JSON or PLAIN_TEXT)", format))
		return
	}
	switch st, opErr := op.status(); st {
	case opError:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to execute the operation %s: %v", op.id, opErr))
		return
	case opCanceled, opClosed:
		writeError(w, http.StatusConflict, fmt.Sprintf("Can not fetch results from the operation %s in %s status", op.id, st))
		return
	}
	rows, eos, err := op.buf.fetch(token)
	if err != nil {
		writeGatewayError(w, err)
		return
	}
	resp := fetchResponse{ResultType: "PAYLOAD", IsQueryResult: op.isQuery, JobID: op.jobID, ResultKind: op.kind,
		Results: encodeResults(op.schema, rows, format)}
	if eos {
		resp.ResultType = "EOS"
	} else {
		prefix := ""
		if strings.HasPrefix(r.URL.Path, "/v2/") {
			prefix = "/v2"
		}
		resp.NextResultURI = fmt.Sprintf("%s/sessions/%s/operations/%s/result/%d?rowFormat=%s", prefix, ss.id, op.id, token+1, format)
	}
	writeJSON(w, http.StatusOK, resp)
}

// encodeResults renders rows in Flink's JSON row format (values as the
// json format writes them, timestamps ISO-8601) or PLAIN_TEXT (every
// value a string as the SQL client prints it).
func encodeResults(schema row.Schema, rows []row.Row, format string) resultsJSON {
	out := resultsJSON{Columns: make([]columnJSON, len(schema.Columns)), RowFormat: format, Data: make([]rowJSON, 0, len(rows))}
	enc := make([]func(row.Value) json.RawMessage, len(schema.Columns))
	for i, c := range schema.Columns {
		out.Columns[i] = columnJSON{Name: c.Name, LogicalType: flinkType(c.Type)}
		if format == "JSON" {
			enc[i] = jsonValue(c.Type)
		} else {
			t := c.Type
			enc[i] = func(v row.Value) json.RawMessage {
				if v.IsNull() {
					return json.RawMessage("null")
				}
				b, _ := json.Marshal(row.Format(v, t))
				return b
			}
		}
	}
	for _, r := range rows {
		fields := make([]json.RawMessage, len(r.Fields))
		for i, v := range r.Fields {
			if i < len(enc) {
				fields[i] = enc[i](v)
			}
		}
		out.Data = append(out.Data, rowJSON{Kind: kindName(r.Kind), Fields: fields})
	}
	return out
}

// kindName is Flink's RowKind name.
func kindName(k row.Kind) string {
	switch k {
	case row.UpdateBefore:
		return "UPDATE_BEFORE"
	case row.UpdateAfter:
		return "UPDATE_AFTER"
	case row.Delete:
		return "DELETE"
	}
	return "INSERT"
}

// jsonValue returns the JSON encoder of values of type t: the json
// format's (Flink's RowDataToJsonConverters, ISO-8601 timestamps), or the
// printed value as a string for types it does not take.
func jsonValue(t row.Type) func(row.Value) json.RawMessage {
	str := func(v row.Value) json.RawMessage {
		if v.IsNull() {
			return json.RawMessage("null")
		}
		b, _ := json.Marshal(row.Format(v, t))
		return b
	}
	const key = "v"
	enc, err := jsonformat.NewEncoder(row.NewSchema(row.Col(key, t)),
		jsonformat.Options{Timestamp: jsonformat.ISO8601, MapNullKey: jsonformat.MapNullKeyLiteral, MapNullKeyLiteral: "null"})
	if err != nil {
		return str
	}
	prefix := len(`{"` + key + `":`)
	return func(v row.Value) json.RawMessage {
		b, err := enc.Append(nil, row.Of(v))
		if err != nil || len(b) < prefix+1 {
			return str(v)
		}
		return json.RawMessage(b[prefix : len(b)-1])
	}
}

// flinkType is t as Flink's LogicalTypeJsonSerializer writes it.
func flinkType(t row.Type) *logicalType {
	n := func(v int) *int { return &v }
	nullable := t.Nullable
	lt := &logicalType{Nullable: &nullable}
	switch t.Root {
	case row.TypeNull:
		return &logicalType{Type: "NULL"}
	case row.TypeBoolean:
		lt.Type = "BOOLEAN"
	case row.TypeTinyInt:
		lt.Type = "TINYINT"
	case row.TypeSmallInt:
		lt.Type = "SMALLINT"
	case row.TypeInt:
		lt.Type = "INTEGER"
	case row.TypeBigInt:
		lt.Type = "BIGINT"
	case row.TypeFloat:
		lt.Type = "FLOAT"
	case row.TypeDouble:
		lt.Type = "DOUBLE"
	case row.TypeDecimal:
		lt.Type, lt.Precision, lt.Scale = "DECIMAL", n(t.Precision), n(t.Scale)
	case row.TypeChar:
		lt.Type, lt.Length = "CHAR", n(t.Precision)
	case row.TypeVarChar:
		lt.Type, lt.Length = "VARCHAR", n(t.Precision)
	case row.TypeBinary:
		lt.Type, lt.Length = "BINARY", n(t.Precision)
	case row.TypeVarBinary:
		lt.Type, lt.Length = "VARBINARY", n(t.Precision)
	case row.TypeDate:
		lt.Type = "DATE"
	case row.TypeTime:
		lt.Type, lt.Precision = "TIME_WITHOUT_TIME_ZONE", n(t.Precision)
	case row.TypeTimestamp:
		lt.Type, lt.Precision = "TIMESTAMP_WITHOUT_TIME_ZONE", n(t.Precision)
	case row.TypeTimestampLTZ:
		lt.Type, lt.Precision = "TIMESTAMP_WITH_LOCAL_TIME_ZONE", n(t.Precision)
	case row.TypeIntervalYearMonth:
		lt.Type, lt.Precision, lt.Resolution = "INTERVAL_YEAR_MONTH", n(2), "YEAR_TO_MONTH"
	case row.TypeIntervalDayTime:
		lt.Type, lt.Precision, lt.FractionalPrecision, lt.Resolution = "INTERVAL_DAY_TIME", n(2), n(t.Precision), "DAY_TO_SECOND"
	case row.TypeArray:
		lt.Type, lt.ElementType = "ARRAY", flinkType(*t.Elem)
	case row.TypeMap:
		lt.Type, lt.KeyType, lt.ValueType = "MAP", flinkType(*t.Elem), flinkType(*t.Value)
	case row.TypeMultiset:
		lt.Type, lt.ElementType = "MULTISET", flinkType(*t.Elem)
	case row.TypeRow:
		lt.Type, lt.Fields = "ROW", []logicalField{}
		for _, f := range t.Fields {
			lt.Fields = append(lt.Fields, logicalField{Name: f.Name, FieldType: flinkType(f.Type)})
		}
	default:
		lt.Type = strings.ToUpper(t.String())
	}
	return lt
}
