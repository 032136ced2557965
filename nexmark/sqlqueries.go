package nexmark

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// SQLQueries returns the names of the queries written in Flink SQL
// (nexmark/sql/qN.sql), in order.
func SQLQueries() []string {
	ents, err := sqlFiles.ReadDir("sql")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		n := strings.TrimSuffix(e.Name(), ".sql")
		if strings.HasPrefix(n, "q") {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, _ := strconv.Atoi(names[i][1:])
		b, _ := strconv.Atoi(names[j][1:])
		return a < b
	})
	return names
}

// SQLScript returns the Flink SQL job of a query: the event table (over
// the 'nexmark' connector, events events from seed at rate events per
// second of event time; 0 events: unbounded),
// the person, auction and bid views, the query's sink table and its
// INSERT INTO. It runs in a session made by SQLSession (the nexmark
// connector and the queries' functions), as `weir sql -f` has. q13 reads
// its side input from a file: use SQLScriptIn for it.
func SQLScript(query string, events int64, seed uint64, rate float64) (string, error) {
	return SQLScriptIn(query, events, seed, rate, "")
}

// SideInputFile is the name of q13's side input file in the directory
// given to SQLScriptIn.
const SideInputFile = "side_input.csv"

// SQLScriptIn is SQLScript for any query: a query that reads the side
// input (q13) gets it written to dir/SideInputFile, SideInputRows lines
// "i,i" as the nexmark project's SideInputGenerator writes them.
func SQLScriptIn(query string, events int64, seed uint64, rate float64, dir string) (string, error) {
	ddl, err := sqlFiles.ReadFile("sql/ddl.sql")
	if err != nil {
		return "", err
	}
	q, err := sqlFiles.ReadFile("sql/" + query + ".sql")
	if err != nil {
		return "", fmt.Errorf("nexmark: no SQL for query %q (have %s)", query, strings.Join(SQLQueries(), ", "))
	}
	if rate <= 0 || rate != float64(int64(rate)) {
		return "", fmt.Errorf("nexmark: the SQL table's rate must be a positive whole number of events per second, not %v", rate)
	}
	side := ""
	if strings.Contains(string(q), "${SIDE_INPUT}") {
		if dir == "" {
			return "", fmt.Errorf("nexmark: %s reads a side input file: give SQLScriptIn a directory to write it to", query)
		}
		side = filepath.Join(dir, SideInputFile)
		if err := WriteSideInput(side); err != nil {
			return "", err
		}
	}
	s := strings.NewReplacer("${EVENTS}", strconv.FormatInt(events, 10), "${SEED}", strconv.FormatUint(seed, 10),
		"${RATE}", strconv.FormatInt(int64(rate), 10)).Replace(string(ddl))
	return s + "\n" + strings.ReplaceAll(string(q), "${SIDE_INPUT}", side), nil
}

// WriteSideInput writes q13's side input, the lines "i,i" for i in
// [0, SideInputRows), to the file path.
func WriteSideInput(path string) error {
	var b strings.Builder
	for i, v := range SideInput() {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("nexmark: writing the side input: %w", err)
	}
	return nil
}
