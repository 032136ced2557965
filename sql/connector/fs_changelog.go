package connector

import (
	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
)

// fileChanges are the changelog rows of one line of a file in a changelog
// format (debezium-json, canal-json).
type fileChanges struct{ rows []row.Row }

// changelogLineDecoder decodes one line into its changelog rows.
type changelogLineDecoder struct {
	dec  changelogDecoder
	skip bool // ignore-parse-errors without a dead-letter output
	proj []int
}

func (d *changelogLineDecoder) Decode(line []byte) (fileChanges, bool, string, error) {
	rows, err := d.dec.Decode(nil, line)
	if err != nil {
		if d.skip {
			return fileChanges{}, false, "", nil
		}
		field, _ := rejection(err)
		return fileChanges{}, false, field, err
	}
	if d.proj != nil {
		for i := range rows {
			rows[i] = project(rows[i], d.proj)
		}
	}
	return fileChanges{rows: rows}, len(rows) > 0, "", nil
}

// produceChangelog is fsSource.Produce for changelog formats: each line's
// rows go out together (one record, so that the watermark after a line
// follows all of its rows), then a flat map hands them on one by one, as
// the kafka source does with a changelog value format.
func (t *fsSource) produceChangelog(b BuildContext) (weir.Stream[row.Row], error) {
	c, proj := t.codec, t.proj
	_, dl := b.OnError.DeadLetters()
	skip := c.ignoreParseErrors && !dl
	newDec := func() file.LineDecoder[fileChanges] {
		dec, _ := c.newChangelog() // checked by newCodec
		return &changelogLineDecoder{dec: dec, skip: skip, proj: proj}
	}
	// NumericOrder: one writer's part files in the order written
	// (part-0-2 before part-0-10), so its changes are read in order.
	opts := file.SourceOptions{OnError: b.OnError, Include: t.fileFilter(), MonitorInterval: t.monitor, NumericOrder: true}
	if b.Env.AutoWatermarkInterval() < 0 {
		opts.LinesPerPoll = 1 // see Produce
	}
	last := func(fc fileChanges) (row.Row, bool) {
		if len(fc.rows) == 0 {
			return row.Row{}, false
		}
		return fc.rows[len(fc.rows)-1], true
	}
	src := file.LineSource[fileChanges](t.path, newDec, opts)
	// No scan.parallelism here (create refuses it): the rows of one key
	// keep their order through forward exchanges.
	st := weir.FromSource(b.Env, src, changeWatermarks(b.Watermarks, func() func(fileChanges) (row.Row, bool) { return last }), t.table).UID(b.uid("source"))
	readRejects(b, st)
	return weir.FlatMap(st, func(fc fileChanges, out weir.Collector[row.Row]) error {
		for _, r := range fc.rows {
			out.Collect(r)
		}
		return nil
	}).Name(b.uid("changelog")).UID(b.uid("changelog")), nil
}
