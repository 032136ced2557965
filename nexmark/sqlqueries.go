package nexmark

import (
	"embed"
	"fmt"
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
// INSERT INTO. It runs with `weir sql -f`.
func SQLScript(query string, events int64, seed uint64, rate float64) (string, error) {
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
	s := strings.NewReplacer("${EVENTS}", strconv.FormatInt(events, 10), "${SEED}", strconv.FormatUint(seed, 10),
		"${RATE}", strconv.FormatInt(int64(rate), 10)).Replace(string(ddl))
	return s + "\n" + string(q), nil
}
