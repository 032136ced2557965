package connector

import (
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// TestPartitionTimeExtractor: Flink's DefaultPartTimeExtractor — the
// first value or the pattern, the default lenient form or a formatter,
// the wall clock in the watermark time zone.
func TestPartitionTimeExtractor(t *testing.T) {
	schema := row.NewSchema(row.Col("v", row.BigInt()), row.Col("dt", row.String()), row.Col("hour", row.String()))
	ms := func(s string, loc *time.Location) int64 {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		opts   map[string]string
		bucket string
		want   int64
		err    string
	}{
		{bucket: "dt=2026-12-05/hour=7", want: ms("2026-12-05 00:00:00", time.UTC)},
		{bucket: "dt=2026-1-5 3:4:5.25/hour=7", want: ms("2026-01-05 03:04:05.25", time.UTC)},
		{bucket: "dt=2026-13-01/hour=7", want: ms("2027-01-01 00:00:00", time.UTC)}, // lenient
		{opts: map[string]string{"partition.time-extractor.timestamp-pattern": "$dt $hour:00:00"},
			bucket: "dt=2026-12-05/hour=7", want: ms("2026-12-05 07:00:00", time.UTC)},
		{opts: map[string]string{"partition.time-extractor.timestamp-pattern": "$dt $hour:00:00",
			"sink.partition-commit.watermark-time-zone": "Asia/Shanghai"},
			bucket: "dt=2026-12-05/hour=7", want: ms("2026-12-05 07:00:00", shanghai)},
		{opts: map[string]string{"partition.time-extractor.timestamp-pattern": "$dt",
			"sink.partition-commit.watermark-time-zone": "GMT-08:00"},
			bucket: "dt=2026-12-05/hour=7", want: ms("2026-12-05 08:00:00", time.UTC)},
		{opts: map[string]string{"partition.time-extractor.timestamp-formatter": "yyyyMMdd"},
			bucket: "dt=20261205/hour=7", want: ms("2026-12-05 00:00:00", time.UTC)},
		{opts: map[string]string{"partition.time-extractor.timestamp-pattern": "$dt$hour",
			"partition.time-extractor.timestamp-formatter": "yyyyMMddHH"},
			bucket: "dt=20261205/hour=07", want: ms("2026-12-05 07:00:00", time.UTC)},
		{bucket: "dt=__DEFAULT_PARTITION__/hour=7", err: "cannot extract the partition time from '__DEFAULT_PARTITION__'"},
		{bucket: "dt=2026-12-05 7/hour=7", err: "cannot extract"},
	} {
		opts := map[string]string{"sink.partition-commit.policy.kind": "success-file", "sink.partition-commit.trigger": "partition-time"}
		for k, v := range tc.opts {
			opts[k] = v
		}
		ctx := Context{Table: "t", Schema: schema, PartitionKeys: []int{1, 2}, Options: opts}
		c, err := newPartitionCommit(newOptions(ctx), newPartitioning(ctx, "/p", DefaultPartitionName))
		if err != nil {
			t.Fatalf("%v: %v", tc.opts, err)
		}
		got, err := c.PartitionTime(tc.bucket)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %v: error %v, want %q", tc.bucket, tc.opts, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s %v: %v", tc.bucket, tc.opts, err)
		case got != tc.want:
			t.Errorf("%s %v: %d, want %d (%s)", tc.bucket, tc.opts, got, tc.want, time.UnixMilli(got).UTC())
		}
	}
}

func TestWatermarkZone(t *testing.T) {
	for z, ok := range map[string]bool{"UTC": true, "America/Los_Angeles": true, "GMT-08:00": true,
		"GMT+8": true, "UTC+8": false, "PST": false, "Local": false, "": false, "GMT+19:00": false, "Nowhere/City": false} {
		if _, got := watermarkZone(z); got != ok {
			t.Errorf("%q: %v, want %v", z, got, ok)
		}
	}
}
