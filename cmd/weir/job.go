package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// jobFlags are the flags every `weir job` command takes.
type jobFlags struct {
	server, token, output string
	timeout               time.Duration
}

// newJobCmd returns `weir job`: the client of `weir server`'s REST API.
func newJobCmd() *cobra.Command {
	f := &jobFlags{}
	cmd := &cobra.Command{
		Use:   "job list|submit|status|savepoint|stop|cancel|rescale",
		Short: "Control the jobs of a weir server",
		Long: `Lists, submits and controls the jobs of a 'weir server' through its REST API.
The token for a server started with --token comes from --token or
WEIR_TOKEN. Output is a table; --output json prints the server's JSON.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("job: name a command: list, submit, status, savepoint, stop, cancel or rescale (weir job --help)")
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "http://127.0.0.1:8081", "base URL of the weir server")
	pf.StringVar(&f.token, "token", "", "bearer token (default $WEIR_TOKEN)")
	pf.StringVarP(&f.output, "output", "o", "table", "table or json")
	pf.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long savepoint, stop and rescale wait for their outcome")
	cmd.AddCommand(jobListCmd(f), jobSubmitCmd(f), jobStatusCmd(f), jobSavepointCmd(f), jobStopCmd(f), jobCancelCmd(f), jobRescaleCmd(f))
	return cmd
}

// apiClient calls the REST API.
type apiClient struct {
	f    *jobFlags
	http *http.Client
}

func (f *jobFlags) client() (*apiClient, error) {
	if f.output != "table" && f.output != "json" {
		return nil, fmt.Errorf("job: --output must be table or json, not %q", f.output)
	}
	if f.token == "" {
		f.token = os.Getenv("WEIR_TOKEN")
	}
	if _, err := url.Parse(f.server); err != nil {
		return nil, fmt.Errorf("job: --server: %w", err)
	}
	return &apiClient{f: f, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends a request and decodes the JSON answer into out (if not nil);
// it returns the raw body too. A non-2xx answer is an error with the
// server's messages.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.f.server, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.f.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.f.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("job: reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			return nil, fmt.Errorf("job: %s %s: %s: %s", method, path, resp.Status, strings.Join(e.Errors, "; "))
		}
		return nil, fmt.Errorf("job: %s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("job: %s %s: bad answer: %w", method, path, err)
		}
	}
	return b, nil
}

// printJSON prints the server's answer as it is.
func printJSON(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

type jobOverview struct {
	ID          string `json:"jid"`
	Name        string `json:"name"`
	State       string `json:"state"`
	Kind        string `json:"job-kind"`
	Parallelism int    `json:"parallelism"`
	StartTime   int64  `json:"start-time"`
	Duration    int64  `json:"duration"`
	Savepoint   string `json:"last-savepoint"`
	Failure     string `json:"failure"`
}

func fmtMillis(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05")
}

func fmtDuration(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
}

func jobListCmd(f *jobFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the server's jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			var res struct {
				Jobs []jobOverview `json:"jobs"`
			}
			b, err := c.call(cmd.Context(), "GET", "/jobs/overview", nil, &res)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), b)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "JOB ID\tNAME\tKIND\tSTATE\tPARALLELISM\tSTARTED\tDURATION")
			for _, j := range res.Jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Name, j.Kind, j.State, j.Parallelism, fmtMillis(j.StartTime), fmtDuration(j.Duration))
			}
			return tw.Flush()
		},
	}
}

func jobSubmitCmd(f *jobFlags) *cobra.Command {
	var (
		parallelism int
		name, goJob string
		args        []string
	)
	cmd := &cobra.Command{
		Use:   "submit FILE.sql | --go JOB [--arg k=v]... [--parallelism N]",
		Short: "Submit a SQL script (one INSERT or statement set) or a built-in Go job",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			body := map[string]any{}
			switch {
			case goJob != "" && len(pos) == 1:
				return errors.New("job submit: give a SQL file or --go JOB, not both")
			case goJob != "":
				kv := map[string]string{}
				for _, a := range args {
					k, v, ok := strings.Cut(a, "=")
					if !ok {
						return fmt.Errorf("job submit: --arg %q is not key=value", a)
					}
					kv[k] = v
				}
				body["job"], body["args"] = goJob, kv
			case len(pos) == 1:
				if len(args) > 0 {
					return errors.New("job submit: --arg applies to --go jobs")
				}
				b, err := os.ReadFile(pos[0])
				if err != nil {
					return fmt.Errorf("job submit: %w", err)
				}
				body["sql"] = string(b)
			default:
				return errors.New("job submit: give a SQL file or --go JOB")
			}
			if parallelism != 0 {
				body["parallelism"] = parallelism
			}
			if name != "" {
				body["name"] = name
			}
			var res struct {
				JobID string `json:"jobid"`
			}
			b, err := c.call(cmd.Context(), "POST", "/jobs", body, &res)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), b)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Job has been submitted with JobID %s\n", res.JobID)
			return err
		},
	}
	cmd.Flags().IntVarP(&parallelism, "parallelism", "p", 0, "parallelism (default: the script's parallelism.default, else 1)")
	cmd.Flags().StringVar(&name, "name", "", "name shown in listings")
	cmd.Flags().StringVar(&goJob, "go", "", "run this built-in Go job (sums) instead of a SQL file")
	cmd.Flags().StringArrayVar(&args, "arg", nil, "argument key=value of the Go job (repeatable)")
	return cmd
}

func jobStatusCmd(f *jobFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status ID",
		Short: "Show a job: state, vertices, records, watermarks, last checkpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			var job struct {
				jobOverview
				Attempts int `json:"attempts"`
				Vertices []struct {
					ID          string         `json:"id"`
					Name        string         `json:"name"`
					Parallelism int            `json:"parallelism"`
					Metrics     map[string]any `json:"metrics"`
				} `json:"vertices"`
			}
			b, err := c.call(cmd.Context(), "GET", "/jobs/"+url.PathEscape(pos[0]), nil, &job)
			if err != nil {
				return err
			}
			var chk struct {
				Counts map[string]int `json:"counts"`
				Latest struct {
					Completed map[string]any `json:"completed"`
				} `json:"latest"`
			}
			cb, err := c.call(cmd.Context(), "GET", "/jobs/"+url.PathEscape(pos[0])+"/checkpoints", nil, &chk)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				_, err := fmt.Fprintf(out, "{\"job\": %s, \"checkpoints\": %s}\n", bytes.TrimSpace(b), bytes.TrimSpace(cb))
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "Job:\t%s (%s)\n", job.ID, job.Name)
			fmt.Fprintf(tw, "State:\t%s\n", job.State)
			fmt.Fprintf(tw, "Parallelism:\t%d\n", job.Parallelism)
			fmt.Fprintf(tw, "Started:\t%s (%s)\n", fmtMillis(job.StartTime), fmtDuration(job.Duration))
			fmt.Fprintf(tw, "Attempts:\t%d\n", job.Attempts)
			if job.Savepoint != "" {
				fmt.Fprintf(tw, "Last savepoint:\t%s\n", job.Savepoint)
			}
			if job.Failure != "" {
				fmt.Fprintf(tw, "Failure:\t%s\n", job.Failure)
			}
			fmt.Fprintf(tw, "Checkpoints:\t%d completed, %d failed\n", chk.Counts["completed"], chk.Counts["failed"])
			if lc := chk.Latest.Completed; lc != nil {
				fmt.Fprintf(tw, "Latest checkpoint:\t%v (%v bytes)\n", lc["id"], lc["state_size"])
			}
			tw.Flush()
			fmt.Fprintln(out)
			tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERTEX\tNAME\tPARALLELISM\tRECORDS IN\tRECORDS OUT\tWATERMARK")
			for _, v := range job.Vertices {
				wm := "-"
				if x, ok := v.Metrics["current-input-watermark"].(float64); ok {
					wm = time.UnixMilli(int64(x)).UTC().Format("2006-01-02 15:04:05.000")
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%v\t%s\n", v.ID, v.Name, v.Parallelism, v.Metrics["read-records"], v.Metrics["write-records"], wm)
			}
			return tw.Flush()
		},
	}
}

// await polls an operation until it completed and returns its location.
func (c *apiClient) await(ctx context.Context, path string) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.f.timeout)
	defer cancel()
	for {
		var st struct {
			Status struct {
				ID string `json:"id"`
			} `json:"status"`
			Operation struct {
				Location string `json:"location"`
				Failure  *struct {
					StackTrace string `json:"stack-trace"`
				} `json:"failure-cause"`
			} `json:"operation"`
		}
		b, err := c.call(ctx, "GET", path, nil, &st)
		if err != nil {
			return "", nil, err
		}
		if st.Status.ID == "COMPLETED" {
			if st.Operation.Failure != nil {
				return "", b, fmt.Errorf("job: %s", st.Operation.Failure.StackTrace)
			}
			return st.Operation.Location, b, nil
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", nil, fmt.Errorf("job: waiting for %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

// operationCmd runs a savepoint-like operation: POST path, then poll.
func operationCmd(cmd *cobra.Command, f *jobFlags, id, post, poll string, body any, done string) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	var res struct {
		RequestID string `json:"request-id"`
	}
	base := "/jobs/" + url.PathEscape(id)
	if _, err := c.call(cmd.Context(), "POST", base+post, body, &res); err != nil {
		return err
	}
	loc, b, err := c.await(cmd.Context(), base+poll+"/"+url.PathEscape(res.RequestID))
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(cmd.OutOrStdout(), b)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), done, loc)
	return err
}

func jobSavepointCmd(f *jobFlags) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "savepoint ID [--dir DIR]",
		Short: "Take a savepoint of a running job and print its path",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			return operationCmd(cmd, f, pos[0], "/savepoints", "/savepoints", map[string]any{"target-directory": dir}, "Savepoint completed. Path: %s\n")
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "target directory, under one of the server's savepoint roots (default: the server's)")
	return cmd
}

func jobStopCmd(f *jobFlags) *cobra.Command {
	var (
		dir       string
		savepoint bool
		drain     bool
	)
	cmd := &cobra.Command{
		Use:   "stop ID [--savepoint] [--savepoint-dir DIR] [--drain]",
		Short: "Stop a job with a savepoint (as Flink's stop)",
		Long: `Stops the job with a savepoint: sinks commit everything up to it and the job
ends FINISHED; the savepoint's path is printed. --savepoint-dir picks the
directory (under one of the server's savepoint roots; default: the
server's). A stop always takes a savepoint (--savepoint is the default and
may be given for clarity); to end a job without one use 'weir job cancel'.
--drain (Flink's stop --drain) first ends event time: the sources emit the
final watermark, so every event-time timer fires and every open window
emits before the savepoint; use it to end a job for good.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !savepoint {
				return errors.New("job stop: a stop always takes a savepoint; to end a job without one use 'weir job cancel'")
			}
			body := map[string]any{"targetDirectory": dir}
			if drain {
				body["drain"] = true
			}
			return operationCmd(cmd, f, pos[0], "/stop", "/savepoints", body, "Savepoint completed. Path: %s\n")
		},
	}
	cmd.Flags().BoolVar(&savepoint, "savepoint", true, "stop with a savepoint (always; see 'weir job cancel')")
	cmd.Flags().StringVar(&dir, "savepoint-dir", "", "savepoint directory, under one of the server's savepoint roots (default: the server's)")
	cmd.Flags().BoolVar(&drain, "drain", false, "end event time first: the final watermark fires every timer and window before the savepoint")
	return cmd
}

func jobCancelCmd(f *jobFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job without a savepoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			b, err := c.call(cmd.Context(), "PATCH", "/jobs/"+url.PathEscape(pos[0])+"?mode=cancel", nil, nil)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), b)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Cancelled job %s.\n", pos[0])
			return err
		},
	}
}

func jobRescaleCmd(f *jobFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rescale ID N",
		Short: "Rescale a job: stop it with a savepoint and run it again at parallelism N",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			n, err := strconv.Atoi(pos[1])
			if err != nil || n < 1 {
				return fmt.Errorf("job rescale: parallelism %q must be a positive number", pos[1])
			}
			return operationCmd(cmd, f, pos[0], "/rescaling", "/rescaling", map[string]any{"parallelism": n},
				"Rescaled to parallelism "+strconv.Itoa(n)+" from savepoint %s\n")
		},
	}
}
