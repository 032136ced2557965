// Command iot-alerts watches temperature sensors: readings arrive over MQTT
// as JSON ({"sensor":"s3","ts":1764867600123,"temp":23.4}, ts in Unix
// milliseconds: the reading's event time), are cut into one-minute
// event-time tumbling windows per sensor, and every window becomes a row of a
// ClickHouse table (sensor, window, readings, average and maximum
// temperature, hot flag) while the windows whose average exceeds
// -threshold are POSTed as alerts to a webhook.
//
// Watermarks are bounded out-of-orderness (-out-of-order, 15s by default) on
// the reading's timestamp: a reading may arrive up to that much behind the
// newest one seen and still count in its window; a window fires once the
// watermark passes its end.
//
// With -demo it shows the whole loop on its own against the machine's
// Mosquitto and ClickHouse (scripts/test-services.sh starts both): it creates
// a table and a topic unique to the run, serves the webhook itself on a local
// port and prints each alert it receives, publishes generated readings (some
// sensors running hot, a few readings published out of order), runs the job
// with checkpoints, then checks that ClickHouse holds exactly the windows and
// the webhook got exactly the alerts computed independently from the
// published readings, drops the table and exits 0, or 1 with the difference.
//
//	go run ./examples/iot-alerts -demo
//
// Without -demo it runs until interrupted, reading -topic, writing -table
// (created if missing) and POSTing to -webhook; -restore latest resumes from
// the newest checkpoint.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/clickhouse"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/connector/mqtt"
	"github.com/weirstream/weir/window"
)

// reading is one sensor reading as published on MQTT.
type reading struct {
	Sensor string  `json:"sensor"`
	TS     int64   `json:"ts"`   // event time, Unix milliseconds
	Temp   float64 `json:"temp"` // °C, one decimal
}

// windowRow is one sensor's minute: a row of the ClickHouse table.
type windowRow struct {
	Sensor      string  `json:"sensor"`
	WindowStart int64   `json:"window_start"` // Unix seconds (DateTime('UTC'))
	WindowEnd   int64   `json:"window_end"`
	Readings    uint32  `json:"readings"`
	AvgTemp     float64 `json:"avg_temp"`
	MaxTemp     float64 `json:"max_temp"`
	Hot         uint8   `json:"hot"` // 1 if an alert was raised
}

// alert is what the webhook receives for a window running hot.
type alert struct {
	Sensor      string    `json:"sensor"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Readings    uint32    `json:"readings"`
	AvgTemp     float64   `json:"avg_temp"`
	MaxTemp     float64   `json:"max_temp"`
	Threshold   float64   `json:"threshold"`
}

func (a alert) String() string {
	return fmt.Sprintf("%s %s–%s avg %.2f°C > %.1f°C (max %.1f°C, %d readings)",
		a.Sensor, a.WindowStart.Format("15:04"), a.WindowEnd.Format("15:04"), a.AvgTemp, a.Threshold, a.MaxTemp, a.Readings)
}

// endSensor names the demo's last reading, which only moves event time
// forward (see publish) and is dropped after the source.
const endSensor = "_end"

// config is what a run needs; flags fill it in.
type config struct {
	Broker        string        // MQTT broker URL
	ClickHouse    string        // ClickHouse HTTP interface
	Topic         string        // MQTT topic (filter) of the readings
	Table         string        // ClickHouse table, in database default
	Webhook       string        // alerts are POSTed here
	ClientID      string        // MQTT client id prefix of the source
	Threshold     float64       // °C: a window whose average exceeds it alerts
	OutOfOrder    time.Duration // watermark bound
	CheckpointDir string
	Restore       string
	Seed          uint64 // demo: seed of the generated readings
}

func main() {
	var cfg config
	flag.StringVar(&cfg.Broker, "broker", "tcp://127.0.0.1:1883", "MQTT broker")
	flag.StringVar(&cfg.ClickHouse, "clickhouse", clickhouse.DefaultURL, "ClickHouse HTTP interface")
	flag.StringVar(&cfg.Topic, "topic", "weir-iot-alerts/readings", "MQTT topic of the readings (the demo uses one of its own)")
	flag.StringVar(&cfg.Table, "table", "weir_iot_windows", "ClickHouse table of the windows (the demo uses one of its own)")
	flag.StringVar(&cfg.Webhook, "webhook", "", "URL the alerts are POSTed to (the demo serves its own)")
	flag.StringVar(&cfg.ClientID, "client-id", "weir-iot-alerts", "MQTT client id prefix of the source (its persistent session)")
	flag.Float64Var(&cfg.Threshold, "threshold", 30, "°C: a window whose average temperature exceeds it raises an alert")
	flag.DurationVar(&cfg.OutOfOrder, "out-of-order", 15*time.Second, "how far behind the newest reading a reading may arrive")
	flag.StringVar(&cfg.CheckpointDir, "checkpoint-dir", "iot-alerts-checkpoints", "checkpoint directory")
	flag.StringVar(&cfg.Restore, "restore", "", `"latest" resumes from the newest checkpoint`)
	flag.Uint64Var(&cfg.Seed, "seed", 1, "demo: seed of the generated readings")
	demo := flag.Bool("demo", false, "publish generated readings, run the job, check ClickHouse and the alerts, stop")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *demo {
		err = runDemo(ctx, cfg, os.Stdout)
	} else {
		err = run(ctx, cfg)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// build adds the job to env: MQTT readings → one-minute windows per sensor →
// every window to ClickHouse, the hot ones to the webhook.
func build(env *weir.Environment, cfg config) error {
	src, err := mqtt.NewSource(mqtt.SourceOptions[reading]{
		Connection:   mqtt.Connection{Broker: cfg.Broker, ClientID: cfg.ClientID},
		Topics:       []string{cfg.Topic},
		Deserializer: mqtt.JSON[reading],
	})
	if err != nil {
		return err
	}
	// Event time is the reading's own timestamp; the watermark trails the
	// newest one seen by OutOfOrder, so readings that arrive at most that
	// late still land in their window.
	wm := weir.ForBoundedOutOfOrderness[reading](cfg.OutOfOrder).WithTimestamps(func(r reading) int64 { return r.TS })
	readings := weir.FromSource(env, src, wm, "mqtt-readings").UID("mqtt-readings").
		Filter(func(r reading) bool { return r.Sensor != endSensor }).Name("drop-end-marker")

	thresholdDC := int64(math.Round(cfg.Threshold * 10))
	minutes := weir.Window(weir.KeyBy(readings, func(r reading) string { return r.Sensor }),
		window.TumblingEventTime[reading](time.Minute))
	rows := weir.WindowAggregateProcess[string, reading, window.TimeWindow, acc, acc, windowRow](minutes, minuteAgg{},
		weir.ProcessWindowFunc[string, acc, windowRow, window.TimeWindow](
			func(ctx *weir.WindowContext[string, windowRow, window.TimeWindow], sensor string, accs []acc) error {
				for _, a := range accs {
					ctx.Collect(a.row(sensor, ctx.Window(), thresholdDC))
				}
				return nil
			})).Name("minute-windows").UID("minute-windows")

	rows.SinkTo(clickhouse.NewSink(clickhouse.Options[windowRow]{
		URL:        cfg.ClickHouse,
		Table:      cfg.Table,
		Serializer: kafka.JSONSerde[windowRow]{},
	})).Name("clickhouse").UID("clickhouse")

	alerts := weir.Map(rows.Filter(func(w windowRow) bool { return w.Hot == 1 }), func(w windowRow) alert {
		return alert{
			Sensor:      w.Sensor,
			WindowStart: time.Unix(w.WindowStart, 0).UTC(),
			WindowEnd:   time.Unix(w.WindowEnd, 0).UTC(),
			Readings:    w.Readings,
			AvgTemp:     w.AvgTemp,
			MaxTemp:     w.MaxTemp,
			Threshold:   cfg.Threshold,
		}
	}).Name("alerts")
	alerts.SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[alert]{
		URL:        cfg.Webhook,
		Serializer: kafka.JSONSerde[alert]{},
	})).Name("webhook").UID("webhook")
	return nil
}

// acc accumulates a window in tenths of a degree, so that sums are exact
// whatever order the readings arrive in.
type acc struct {
	N            uint32
	SumDC, MaxDC int64
}

func (a acc) add(r reading) acc {
	dc := int64(math.Round(r.Temp * 10))
	if a.N == 0 || dc > a.MaxDC {
		a.MaxDC = dc
	}
	a.N++
	a.SumDC += dc
	return a
}

// row makes the window's row; it is hot when the average exceeds the
// threshold (compared exactly, in tenths of a degree).
func (a acc) row(sensor string, w window.TimeWindow, thresholdDC int64) windowRow {
	r := windowRow{
		Sensor:      sensor,
		WindowStart: w.Start / 1000,
		WindowEnd:   w.End / 1000,
		Readings:    a.N,
		AvgTemp:     float64(a.SumDC) / float64(a.N) / 10,
		MaxTemp:     float64(a.MaxDC) / 10,
	}
	if a.SumDC > thresholdDC*int64(a.N) {
		r.Hot = 1
	}
	return r
}

// minuteAgg aggregates a window incrementally: its state is one acc per
// sensor and window, not the readings.
type minuteAgg struct{}

func (minuteAgg) CreateAccumulator() acc            { return acc{} }
func (minuteAgg) Add(a acc, r reading) (acc, error) { return a.add(r), nil }
func (minuteAgg) Result(a acc) (acc, error)         { return a, nil }
func (minuteAgg) Merge(a, b acc) (acc, error)       { return mergeAcc(a, b), nil }
func mergeAcc(a, b acc) acc {
	if b.N == 0 {
		return a
	}
	if a.N == 0 || b.MaxDC > a.MaxDC {
		a.MaxDC = b.MaxDC
	}
	a.N += b.N
	a.SumDC += b.SumDC
	return a
}

// run runs the job until ctx is cancelled.
func run(ctx context.Context, cfg config) error {
	if cfg.Webhook == "" {
		return fmt.Errorf("iot-alerts: -webhook must be set (or run with -demo)")
	}
	if err := createTable(ctx, cfg); err != nil {
		return err
	}
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: time.Second, Dir: cfg.CheckpointDir},
		Restore:     cfg.Restore,
	})
	if err := build(env, cfg); err != nil {
		return err
	}
	err := env.Execute(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// ---- ClickHouse helpers ----------------------------------------------------

// chQuery runs one statement over ClickHouse's HTTP interface and returns
// the answer's body.
func chQuery(ctx context.Context, base, q string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", strings.NewReader(q))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ClickHouse at %s unreachable (scripts/test-services.sh starts it): %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ClickHouse at %s: %s: %s", base, q, bytes.TrimSpace(body))
	}
	return body, nil
}

func createTable(ctx context.Context, cfg config) error {
	_, err := chQuery(ctx, cfg.ClickHouse, "CREATE TABLE IF NOT EXISTS default."+cfg.Table+` (
		sensor String, window_start DateTime('UTC'), window_end DateTime('UTC'),
		readings UInt32, avg_temp Float64, max_temp Float64, hot UInt8
	) ENGINE = MergeTree ORDER BY (sensor, window_start)`)
	return err
}

// tableRows reads the table back, ordered by sensor and window.
func tableRows(ctx context.Context, cfg config) ([]windowRow, error) {
	body, err := chQuery(ctx, cfg.ClickHouse, "SELECT sensor, toUInt64(window_start) AS window_start, toUInt64(window_end) AS window_end,"+
		" readings, avg_temp, max_temp, hot FROM default."+cfg.Table+" ORDER BY sensor, window_start FORMAT JSONEachRow")
	if err != nil {
		return nil, err
	}
	var rows []windowRow
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for dec.More() {
		// ClickHouse quotes 64-bit integers in JSON: read them either way.
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("reading ClickHouse's rows: %w", err)
		}
		num := func(k string) float64 {
			var s string
			switch v := m[k].(type) {
			case json.Number:
				s = v.String()
			case string:
				s = v
			}
			var f float64
			fmt.Sscan(s, &f)
			return f
		}
		s, _ := m["sensor"].(string)
		rows = append(rows, windowRow{
			Sensor: s, WindowStart: int64(num("window_start")), WindowEnd: int64(num("window_end")),
			Readings: uint32(num("readings")), AvgTemp: num("avg_temp"), MaxTemp: num("max_temp"), Hot: uint8(num("hot")),
		})
	}
	return rows, nil
}

// ---- the demo --------------------------------------------------------------

// runDemo publishes generated readings, runs the job until ClickHouse and the
// webhook hold what the readings say they should, and checks them exactly.
func runDemo(ctx context.Context, cfg config, out io.Writer) (err error) {
	run := randomID()
	cfg.Topic = "weir-iot-alerts/" + run + "/readings"
	cfg.Table = "weir_iot_windows_" + run
	cfg.ClientID = "weir-iot-alerts-" + run
	if cfg.CheckpointDir == "" || cfg.CheckpointDir == "iot-alerts-checkpoints" {
		dir, err := os.MkdirTemp("", "iot-alerts-checkpoints-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.CheckpointDir = dir
	}

	// ClickHouse: a table of this run's own, dropped at the end.
	if err := createTable(ctx, cfg); err != nil {
		return err
	}
	defer func() {
		if _, derr := chQuery(context.Background(), cfg.ClickHouse, "DROP TABLE IF EXISTS default."+cfg.Table); derr != nil && err == nil {
			err = derr
		}
	}()

	// MQTT: the source keeps a persistent session (client id ClientID-0 at
	// parallelism 1). The demo creates that session and its subscription
	// before publishing, so the broker queues every reading for the job
	// even if the job connects after they were published: nothing is
	// lost to a race between publishing and subscribing. The session is
	// removed at the end (a clean-session connect with the same id).
	pub, err := mqttConnect(cfg.Broker, cfg.ClientID+"-publisher", true)
	if err != nil {
		return err
	}
	defer pub.Disconnect(100)
	if err := presubscribe(cfg.Broker, cfg.ClientID+"-0", cfg.Topic); err != nil {
		return err
	}
	defer func() {
		if c, err := mqttConnect(cfg.Broker, cfg.ClientID+"-0", true); err == nil {
			c.Disconnect(100)
		}
	}()

	// The webhook, served here; a batch repeated under an Idempotency-Key
	// already seen (a retry) is answered 200 and not counted again.
	hook := &receiver{out: out}
	hook.mu.seen = map[string]bool{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	cfg.Webhook = srv.URL + "/alerts"

	readings, order := generate(cfg.Seed, time.Now().UTC().Truncate(time.Minute).Add(-10*time.Minute), cfg.OutOfOrder)
	wantRows, wantAlerts := expected(readings, cfg.Threshold)
	late, crossing, maxBehind := outOfOrder(order)
	fmt.Fprintf(out, "run %s: topic %s, table default.%s, webhook %s\n", run, cfg.Topic, cfg.Table, cfg.Webhook)
	fmt.Fprintf(out, "publishing %d readings of %d sensors over %d minutes; %d out of order (up to %.1fs behind the newest), %d of them after a reading of the next minute\n",
		len(order), len(sensorsOf(readings)), countMinutes(readings), late, maxBehind.Seconds(), crossing)

	env := weir.NewEnvironment(weir.Options{
		// MQTT messages are acknowledged after the checkpoint that covers
		// them, and Mosquitto has at most 20 unacknowledged messages out to
		// a client: frequent checkpoints keep the demo quick.
		Checkpoints: weir.CheckpointOptions{Interval: 100 * time.Millisecond, Dir: cfg.CheckpointDir},
		// A watermark after every poll rather than every 200ms: the
		// watermark then follows the readings closely, so that a reading
		// held back would be dropped as late if the bound did not cover
		// it (the check would catch that), instead of slipping through
		// between two periodic watermarks.
		AutoWatermarkInterval: -1,
	})
	if err := build(env, cfg); err != nil {
		return err
	}
	job, err := env.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		job.Cancel()
		_ = job.Wait()
	}()

	for _, r := range order {
		if err := mqttPublish(pub, cfg.Topic, r); err != nil {
			return err
		}
	}
	// The end: one reading an hour after the last. The watermark follows
	// it past the end of every window, so every window fires now, without
	// waiting for more readings or for a timeout; it is dropped after the
	// source and belongs to no window of the table. (Idleness would not do:
	// an idle source holds the watermark where it is, as in Flink.)
	last := order[0].TS
	for _, r := range order {
		last = max(last, r.TS)
	}
	if err := mqttPublish(pub, cfg.Topic, reading{Sensor: endSensor, TS: last + time.Hour.Milliseconds()}); err != nil {
		return err
	}

	// Wait until ClickHouse has as many rows as expected and the webhook as
	// many alerts, then compare them exactly.
	deadline := time.Now().Add(30 * time.Second)
	var gotRows []windowRow
	for {
		if gotRows, err = tableRows(ctx, cfg); err != nil {
			return err
		}
		if len(gotRows) >= len(wantRows) && hook.count() >= len(wantAlerts) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after 30s ClickHouse holds %d of %d windows and the webhook got %d of %d alerts",
				len(gotRows), len(wantRows), hook.count(), len(wantAlerts))
		}
		select {
		case <-job.Done():
			return fmt.Errorf("the job ended: %w", job.Wait())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Stop the job, then read both again: anything arriving late (a
	// duplicate) is caught by the comparison.
	job.Cancel()
	_ = job.Wait()
	if gotRows, err = tableRows(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(out, "ClickHouse default.%s:\n", cfg.Table)
	for _, r := range gotRows {
		hot := ""
		if r.Hot == 1 {
			hot = "  HOT"
		}
		fmt.Fprintf(out, "  %-3s %s  %2d readings  avg %5.2f°C  max %4.1f°C%s\n",
			r.Sensor, time.Unix(r.WindowStart, 0).UTC().Format("15:04"), r.Readings, r.AvgTemp, r.MaxTemp, hot)
	}
	if d := diffRows(wantRows, gotRows); d != "" {
		return fmt.Errorf("ClickHouse does not hold the expected windows:\n%s", d)
	}
	if d := diffAlerts(wantAlerts, hook.alerts()); d != "" {
		return fmt.Errorf("the webhook did not get the expected alerts:\n%s", d)
	}
	fmt.Fprintf(out, "OK: ClickHouse holds exactly the %d expected windows and the webhook got exactly the %d expected alerts\n",
		len(wantRows), len(wantAlerts))
	return nil
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// receiver is the demo's webhook: it takes JSON arrays of alerts.
type receiver struct {
	out io.Writer
	mu  struct {
		sync.Mutex
		alerts []alert
		seen   map[string]bool // Idempotency-Keys of the batches taken
	}
}

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var batch []alert
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get(weirhttp.DefaultIdempotencyHeader)
	h.mu.Lock()
	defer h.mu.Unlock()
	if key != "" && h.mu.seen[key] {
		return
	}
	h.mu.seen[key] = true
	for _, a := range batch {
		fmt.Fprintln(h.out, "ALERT", a)
		h.mu.alerts = append(h.mu.alerts, a)
	}
}

func (h *receiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.mu.alerts)
}

func (h *receiver) alerts() []alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.mu.alerts)
}

// ---- MQTT helpers ----------------------------------------------------------

func mqttConnect(broker, id string, clean bool) (paho.Client, error) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID(id).
		SetCleanSession(clean).SetProtocolVersion(4).SetConnectRetry(false))
	tok := c.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("Mosquitto (MQTT) at %s unreachable (scripts/test-services.sh starts it): %v", broker, tok.Error())
	}
	return c, nil
}

// presubscribe creates the persistent session id subscribed to topic.
func presubscribe(broker, id, topic string) error {
	c, err := mqttConnect(broker, id, false)
	if err != nil {
		return err
	}
	defer c.Disconnect(100)
	tok := c.Subscribe(topic, 1, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscribing to %s on %s: %v", topic, broker, tok.Error())
	}
	return nil
}

func mqttPublish(c paho.Client, topic string, r reading) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tok := c.Publish(topic, 1, false, b)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publishing to %s: %v", topic, tok.Error())
	}
	return nil
}

// ---- generated readings and what they must give ------------------------------

// generate returns the readings of six sensors, one every ten seconds (with
// jitter) for six minutes from base, and the order they are published in:
// by time, except a few readings held back behind later ones, never by more
// than bound (so none is late for the watermark). s2 heats up from the third
// minute, s5 runs hot throughout, s4 has one hot spell.
func generate(seed uint64, base time.Time, bound time.Duration) (readings, order []reading) {
	rng := mrand.New(mrand.NewPCG(seed, 0x10a1e475))
	const sensors, minutes, tick = 6, 6, 10 * time.Second
	for i := 0; i < minutes*int(time.Minute/tick); i++ {
		for s := 1; s <= sensors; s++ {
			t := base.Add(time.Duration(i)*tick + time.Duration(rng.IntN(int(tick/time.Millisecond)))*time.Millisecond)
			minute := i * int(tick) / int(time.Minute)
			temp := 21 + rng.Float64()*4
			switch {
			case s == 2 && minute >= 2:
				temp += 3 * float64(minute)
			case s == 5:
				temp += 10
			case s == 4 && minute == 4:
				temp += 9
			}
			readings = append(readings, reading{Sensor: fmt.Sprintf("s%d", s), TS: t.UnixMilli(), Temp: math.Round(temp*10) / 10})
		}
	}
	order = slices.Clone(readings)
	slices.SortStableFunc(order, func(a, b reading) int { return int(a.TS - b.TS) })
	// Hold back readings behind later ones, keeping a move only if no
	// reading is then more than bound behind the newest published before
	// it (so none is late for the watermark): at every minute boundary the
	// last reading of the ending minute goes after the first readings of
	// the next one, so its window must wait for it; and about one reading
	// in twenty moves 3 to 8 places.
	hold := func(i, k int) {
		if i < 0 || i+k >= len(order) {
			return
		}
		moved := slices.Clone(order)
		r := moved[i]
		moved = slices.Delete(moved, i, i+1)
		moved = slices.Insert(moved, i+k, r)
		if _, _, behind := outOfOrder(moved); behind <= bound {
			order = moved
		}
	}
	for m := 1; m < minutes; m++ {
		b := base.Add(time.Duration(m) * time.Minute).UnixMilli()
		first := slices.IndexFunc(order, func(r reading) bool { return r.TS >= b })
		hold(first-1, 2+rng.IntN(3))
	}
	for i := 0; i < len(order)-8; i++ {
		if rng.IntN(20) == 0 {
			hold(i, 3+rng.IntN(6))
		}
	}
	return readings, order
}

// outOfOrder counts the readings published behind a newer one, those of
// them published after a reading of a later minute (their window must not
// have fired yet), and the largest distance behind.
func outOfOrder(order []reading) (n, crossing int, most time.Duration) {
	newest := int64(math.MinInt64)
	for _, r := range order {
		if r.TS < newest {
			n++
			if r.TS/60000 < newest/60000 {
				crossing++
			}
			most = max(most, time.Duration(newest-r.TS)*time.Millisecond)
		}
		newest = max(newest, r.TS)
	}
	return n, crossing, most
}

// expected computes the windows and alerts from the readings directly:
// group by sensor and minute, in Go, without the engine.
func expected(readings []reading, threshold float64) ([]windowRow, []alert) {
	type k struct {
		sensor string
		minute int64
	}
	accs := map[k]acc{}
	for _, r := range readings {
		key := k{r.Sensor, r.TS / 60000}
		accs[key] = accs[key].add(r)
	}
	thresholdDC := int64(math.Round(threshold * 10))
	var rows []windowRow
	var alerts []alert
	for key, a := range accs {
		w := window.TimeWindow{Start: key.minute * 60000, End: (key.minute + 1) * 60000}
		row := a.row(key.sensor, w, thresholdDC)
		rows = append(rows, row)
		if row.Hot == 1 {
			alerts = append(alerts, alert{
				Sensor: row.Sensor, WindowStart: time.UnixMilli(w.Start).UTC(), WindowEnd: time.UnixMilli(w.End).UTC(),
				Readings: row.Readings, AvgTemp: row.AvgTemp, MaxTemp: row.MaxTemp, Threshold: threshold,
			})
		}
	}
	sortRows(rows)
	sortAlerts(alerts)
	return rows, alerts
}

func sortRows(rows []windowRow) {
	slices.SortFunc(rows, func(a, b windowRow) int {
		return cmpBy(strings.Compare(a.Sensor, b.Sensor), int(a.WindowStart-b.WindowStart))
	})
}

func sortAlerts(as []alert) {
	slices.SortFunc(as, func(a, b alert) int {
		return cmpBy(strings.Compare(a.Sensor, b.Sensor), a.WindowStart.Compare(b.WindowStart))
	})
}

func cmpBy(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

// diffRows compares the rows; ClickHouse parses floats from text, so the
// temperatures may differ from Go's in the last bit (everything else, and
// the counts and sums behind them, is compared exactly).
func diffRows(want, got []windowRow) string {
	got = slices.Clone(got)
	sortRows(got)
	var b strings.Builder
	same := func(x, y windowRow) bool {
		near := func(p, q float64) bool { return math.Abs(p-q) <= 1e-9*math.Max(1, math.Abs(p)) }
		return x.Sensor == y.Sensor && x.WindowStart == y.WindowStart && x.WindowEnd == y.WindowEnd &&
			x.Readings == y.Readings && x.Hot == y.Hot && near(x.AvgTemp, y.AvgTemp) && near(x.MaxTemp, y.MaxTemp)
	}
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && (want[i].Sensor < got[j].Sensor ||
			want[i].Sensor == got[j].Sensor && want[i].WindowStart < got[j].WindowStart)):
			fmt.Fprintf(&b, "  missing %+v\n", want[i])
			i++
		case i == len(want) || (want[i].Sensor != got[j].Sensor || want[i].WindowStart != got[j].WindowStart):
			fmt.Fprintf(&b, "  unexpected %+v\n", got[j])
			j++
		default:
			if !same(want[i], got[j]) {
				fmt.Fprintf(&b, "  want %+v\n   got %+v\n", want[i], got[j])
			}
			i++
			j++
		}
	}
	return b.String()
}

func diffAlerts(want, got []alert) string {
	got = slices.Clone(got)
	sortAlerts(got)
	if slices.EqualFunc(want, got, func(a, b alert) bool {
		return a.Sensor == b.Sensor && a.WindowStart.Equal(b.WindowStart) && a.WindowEnd.Equal(b.WindowEnd) &&
			a.Readings == b.Readings && a.AvgTemp == b.AvgTemp && a.MaxTemp == b.MaxTemp && a.Threshold == b.Threshold
	}) {
		return ""
	}
	var b strings.Builder
	for _, a := range want {
		fmt.Fprintln(&b, "  want", a)
	}
	for _, a := range got {
		fmt.Fprintln(&b, "   got", a)
	}
	return b.String()
}

func sensorsOf(rs []reading) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		m[r.Sensor] = true
	}
	return m
}

func countMinutes(rs []reading) int {
	m := map[int64]bool{}
	for _, r := range rs {
		m[r.TS/60000] = true
	}
	return len(m)
}
