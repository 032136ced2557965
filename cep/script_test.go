package cep_test

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	"github.com/weirstream/weir/weirtest"
)

// Script tests: testdata/*.txt hold cases separated by "=== name" lines.
// Each case has header lines and sections:
//
//	pattern: begin a:a followedBy b:b|c.oneOrMore.greedy next c:c
//	within: 10         (ms)
//	skip: SkipToFirst(b)
//	mode: proc         (default event time)
//	input: a1@1 b1@2 wm@5 k2:a2@3 pt@7 end
//	matches:
//	a1 b1 c1
//	timeouts:
//	a1 b1 @11
//	late:
//	a2
//
// Input tokens: [key:]id[@ts] is an event (the id's letters are its name,
// its digits its value; without @ the timestamp is the token's position),
// wm@N a watermark, pt@N sets processing time, end ends the input (added
// when missing). A match is printed as its event ids in event order; an id
// accepted under a step not named like the event gets "/step". Sections
// are compared as sorted lists of lines.
//
// Pattern steps: a contiguity keyword (begin, next, followedBy,
// followedByAny, notNext, notFollowedBy) then name:cond, cond being event
// names joined by | or * for any, then dot-separated modifiers: oneOrMore,
// times(n), timesRange(a,b), timesOrMore(n), optional, greedy,
// consecutive, allowCombinations, until(cond), distinct (value differs
// from every event the step accepted before), gt(n) (value > n).

type ev struct {
	Key  string
	ID   string
	Name string
	Val  int
	Pos  int
	TS   int64
}

type scriptCase struct {
	name     string
	pattern  string
	within   time.Duration
	skip     string
	proc     bool
	input    []string
	sections map[string][]string
	line     int
}

func parseScript(t *testing.T, path string) []scriptCase {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []scriptCase
	var cur *scriptCase
	section := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "==="); ok {
			cases = append(cases, scriptCase{name: strings.TrimSpace(name), sections: map[string][]string{}, line: i + 1})
			cur = &cases[len(cases)-1]
			section = ""
			continue
		}
		if cur == nil {
			t.Fatalf("%s:%d: text before the first === case", path, i+1)
		}
		key, val, hasColon := strings.Cut(line, ":")
		switch {
		case hasColon && key == "pattern":
			cur.pattern = strings.TrimSpace(val)
		case hasColon && key == "within":
			ms, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			cur.within = time.Duration(ms) * time.Millisecond
		case hasColon && key == "skip":
			cur.skip = strings.TrimSpace(val)
		case hasColon && key == "mode":
			cur.proc = strings.TrimSpace(val) == "proc"
		case hasColon && key == "input":
			cur.input = append(cur.input, strings.Fields(val)...)
		case hasColon && (key == "matches" || key == "timeouts" || key == "late") && strings.TrimSpace(val) == "":
			section = key
			cur.sections[section] = []string{}
		default:
			if section == "" {
				t.Fatalf("%s:%d: unexpected line %q", path, i+1, line)
			}
			cur.sections[section] = append(cur.sections[section], strings.Join(strings.Fields(line), " "))
		}
	}
	return cases
}

// parseCond parses "a|b", "*".
func parseCond(s string) func(ev) bool {
	if s == "*" {
		return func(ev) bool { return true }
	}
	names := strings.Split(s, "|")
	return func(e ev) bool { return slices.Contains(names, e.Name) }
}

// buildPattern parses the step language described above.
func buildPattern(spec string) (*cep.Seq[ev], error) {
	toks := strings.Fields(spec)
	if len(toks)%2 != 0 {
		return nil, fmt.Errorf("pattern %q: want pairs of contiguity and step", spec)
	}
	var p *cep.Seq[ev]
	for i := 0; i < len(toks); i += 2 {
		kw, step := toks[i], toks[i+1]
		parts := strings.Split(step, ".")
		name, cond, ok := strings.Cut(parts[0], ":")
		if !ok {
			return nil, fmt.Errorf("step %q: want name:cond", step)
		}
		switch kw {
		case "begin":
			p = cep.Begin[ev](name)
		case "next":
			p = p.Next(name)
		case "followedBy":
			p = p.FollowedBy(name)
		case "followedByAny":
			p = p.FollowedByAny(name)
		case "notNext":
			p = p.NotNext(name)
		case "notFollowedBy":
			p = p.NotFollowedBy(name)
		default:
			return nil, fmt.Errorf("unknown contiguity %q", kw)
		}
		p = p.Where(parseCond(cond))
		for _, m := range parts[1:] {
			fn, arg, _ := strings.Cut(strings.TrimSuffix(m, ")"), "(")
			nums := func() []int {
				var out []int
				for _, a := range strings.Split(arg, ",") {
					n, _ := strconv.Atoi(a)
					out = append(out, n)
				}
				return out
			}
			switch fn {
			case "oneOrMore":
				p = p.OneOrMore()
			case "times":
				p = p.Times(nums()[0])
			case "timesRange":
				n := nums()
				p = p.TimesRange(n[0], n[1])
			case "timesOrMore":
				p = p.TimesOrMore(nums()[0])
			case "optional":
				p = p.Optional()
			case "greedy":
				p = p.Greedy()
			case "consecutive":
				p = p.Consecutive()
			case "allowCombinations":
				p = p.AllowCombinations()
			case "until":
				p = p.Until(parseCond(arg))
			case "gt":
				n := nums()[0]
				p = p.Where(func(e ev) bool { return e.Val > n })
			case "distinct":
				step := name
				p = p.WhereCtx(func(e ev, c *cep.Context[ev]) bool {
					ok := true
					c.Each(step, func(prev ev) bool {
						ok = prev.Val != e.Val
						return ok
					})
					return ok
				})
			default:
				return nil, fmt.Errorf("unknown modifier %q", m)
			}
		}
	}
	return p, p.Err()
}

func parseSkip(s string) (cep.SkipStrategy, error) {
	fn, arg, _ := strings.Cut(strings.TrimSuffix(s, ")"), "(")
	switch fn {
	case "", "NoSkip":
		return cep.NoSkip(), nil
	case "SkipToNext":
		return cep.SkipToNext(), nil
	case "SkipPastLastEvent":
		return cep.SkipPastLastEvent(), nil
	case "SkipToFirst":
		return cep.SkipToFirst(arg), nil
	case "SkipToLast":
		return cep.SkipToLast(arg), nil
	}
	return cep.SkipStrategy{}, fmt.Errorf("unknown skip strategy %q", s)
}

func formatEvents(events map[string][]ev) string {
	type named struct {
		e    ev
		step string
	}
	var all []named
	for step, es := range events {
		for _, e := range es {
			all = append(all, named{e, step})
		}
	}
	slices.SortFunc(all, func(a, b named) int {
		if a.e.TS != b.e.TS {
			return cmp.Compare(a.e.TS, b.e.TS)
		}
		return a.e.Pos - b.e.Pos
	})
	var sb strings.Builder
	for i, n := range all {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if n.e.Key != "" {
			sb.WriteString(n.e.Key + ":")
		}
		sb.WriteString(n.e.ID)
		if n.step != n.e.Name {
			sb.WriteString("/" + n.step)
		}
	}
	return sb.String()
}

func parseEvent(tok string, pos int) (ev, int64, error) {
	e := ev{Pos: pos}
	ts := int64(pos)
	if k, rest, ok := strings.Cut(tok, ":"); ok {
		e.Key, tok = k, rest
	}
	if id, at, ok := strings.Cut(tok, "@"); ok {
		n, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return e, 0, fmt.Errorf("token %q: %w", tok, err)
		}
		ts, tok = n, id
	}
	e.ID, e.TS = tok, ts
	i := strings.IndexAny(tok, "0123456789")
	if i < 0 {
		e.Name = tok
	} else {
		e.Name = tok[:i]
		e.Val, _ = strconv.Atoi(tok[i:])
	}
	return e, ts, nil
}

func runCase(t *testing.T, c scriptCase) map[string][]string {
	t.Helper()
	p, err := buildPattern(c.pattern)
	if err != nil {
		t.Fatalf("line %d: %v", c.line, err)
	}
	if c.within > 0 {
		p = p.Within(c.within)
	}
	skip, err := parseSkip(c.skip)
	if err != nil {
		t.Fatal(err)
	}
	return runWith(t, p.Skip(skip), c)
}

func runWith(t *testing.T, p *cep.Seq[ev], c scriptCase) map[string][]string {
	t.Helper()
	h := weirtest.New(weir.Options{Parallelism: 1})
	in := weirtest.NewInput[ev](h)
	ps := cep.Pattern(weir.KeyBy(in.Stream(), func(e ev) string { return e.Key }), p)
	if c.proc {
		ps = ps.InProcessingTime()
	}
	timeoutTag := weir.NewOutputTag[cep.TimedOut[string, ev]]("timeouts")
	lateTag := weir.NewOutputTag[ev]("late")
	ps = ps.SideOutputTimeouts(timeoutTag).SideOutputLateData(lateTag)
	matches := cep.Select(ps, func(_ string, m map[string][]ev) (string, error) { return formatEvents(m), nil })
	mOut := weirtest.Capture(h, matches)
	tOut := weirtest.Capture(h, weir.Map(weir.SideOutput(matches, timeoutTag), func(to cep.TimedOut[string, ev]) string {
		return fmt.Sprintf("%s @%d", formatEvents(to.Events), to.At)
	}))
	lOut := weirtest.Capture(h, weir.Map(weir.SideOutput(matches, lateTag), func(e ev) string { return e.ID }))
	h.Start(t)

	ended := false
	for i, tok := range c.input {
		var err error
		switch {
		case tok == "end":
			err, ended = in.End(), true
		case strings.HasPrefix(tok, "wm@"):
			n, perr := strconv.ParseInt(tok[3:], 10, 64)
			if perr != nil {
				t.Fatal(perr)
			}
			err = in.Watermark(n)
		case strings.HasPrefix(tok, "pt@"):
			n, perr := strconv.ParseInt(tok[3:], 10, 64)
			if perr != nil {
				t.Fatal(perr)
			}
			err = h.SetProcessingTime(n)
		default:
			e, ts, perr := parseEvent(tok, i+1)
			if perr != nil {
				t.Fatal(perr)
			}
			if c.proc {
				e.TS = 0 // matched in arrival order
			}
			err = in.Push(e, ts)
		}
		if err != nil {
			t.Fatalf("line %d: input %q: %v", c.line, tok, err)
		}
	}
	if !ended {
		if err := in.End(); err != nil {
			t.Fatal(err)
		}
	}
	return map[string][]string{"matches": mOut.Values(), "timeouts": tOut.Values(), "late": lOut.Values()}
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		for _, c := range parseScript(t, f) {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".txt")+"/"+c.name, func(t *testing.T) {
				got := runCase(t, c)
				for _, sec := range []string{"matches", "timeouts", "late"} {
					want, checked := c.sections[sec]
					if !checked {
						if sec == "matches" {
							t.Fatalf("line %d: case has no matches section", c.line)
						}
						continue
					}
					g := slices.Clone(got[sec])
					w := slices.Clone(want)
					slices.Sort(g)
					slices.Sort(w)
					if !slices.Equal(g, w) {
						t.Errorf("line %d: %s:\n got: %q\nwant: %q", c.line, sec, g, w)
					}
				}
			})
		}
	}
}
