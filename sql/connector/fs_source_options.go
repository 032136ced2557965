package connector

import (
	"fmt"
	"path/filepath"
	"regexp"
)

// newPathRegex reads source.path.regex-pattern (Flink's filesystem
// source option): a file is read only when the pattern matches its whole
// absolute path (Java's Matcher.matches), as Flink's RegexFileFilter.
// Every directory under 'path' is still walked (hidden ones, names
// starting with '.' or '_', are skipped as without the option), as
// Flink's NonSplittingRecursiveAllDirEnumerator. Patterns Go's RE2 cannot
// compile (look-arounds, back-references, possessive quantifiers) are
// refused naming the option.
func newPathRegex(o *options) *regexp.Regexp {
	const key = "source.path.regex-pattern"
	if !o.has(key) {
		o.mark(key)
		return nil
	}
	p := o.str(key, "")
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		o.fail(key, p, fmt.Sprintf("expected a regular expression Weir (Go's RE2 syntax) can compile: %v", err))
		return nil
	}
	return re
}

// fileFilter returns the filter of the files the table reads (its
// partition directories and source.path.regex-pattern), nil for all.
func (t *fsTable) fileFilter() func(path string) bool {
	if t.pathRe == nil {
		if t.part == nil {
			return nil
		}
		return t.part.include
	}
	re, part := t.pathRe, t.part
	return func(path string) bool {
		if part != nil && !part.include(path) {
			return false
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			abs = path
		}
		return re.MatchString(filepath.ToSlash(abs))
	}
}

// checkReportStatistics reads source.report-statistics (Flink: NONE or
// ALL, default ALL, any case): which file statistics the source reports
// to Flink's batch optimizer. Weir's planner uses no statistics, so both
// values plan and run the same; the value is checked only.
func checkReportStatistics(o *options) {
	o.enum("source.report-statistics", "ALL", "NONE", "ALL")
}
