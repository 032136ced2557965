package server

import (
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// getMetrics serves every hosted job's Prometheus metrics (those of its
// current or last run) in the text exposition format, each series with
// the labels job_id and job_name added: the endpoint Prometheus scrapes
// (deploy/ has a scrape config, alert rules and a Grafana dashboard).
func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) {
	families := map[string]*dto.MetricFamily{}
	for _, j := range s.jobs() {
		rec := j.record()
		j.mu.Lock()
		reg := j.mu.metrics
		j.mu.Unlock()
		if reg == nil {
			continue
		}
		mfs, err := reg.Gather()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "gathering the metrics of job "+rec.ID+": "+err.Error())
			return
		}
		labels := []*dto.LabelPair{
			{Name: ptr("job_id"), Value: ptr(rec.ID)},
			{Name: ptr("job_name"), Value: ptr(rec.Name)},
		}
		for _, mf := range mfs {
			f := families[mf.GetName()]
			if f == nil {
				f = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
				families[mf.GetName()] = f
			}
			for _, m := range mf.Metric {
				m.Label = append(append([]*dto.LabelPair{}, labels...), m.Label...)
				f.Metric = append(f.Metric, m)
			}
		}
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	for _, n := range names {
		if err := enc.Encode(families[n]); err != nil {
			return // the client went away
		}
	}
}

func ptr(s string) *string { return &s }
