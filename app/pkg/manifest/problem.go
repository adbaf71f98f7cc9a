package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a manifest, located precisely enough for an
// editor to jump to it.
type Problem struct {
	// File is the manifest path built from the directory the caller passed
	// in (e.g. "tenants/binyang/tenant.yaml"), never an absolute path that
	// the caller did not give, so messages are stable across machines.
	File string
	// Line and Column are 1-based; 0 means the problem concerns the whole
	// file (or the tree) rather than a position in it.
	Line, Column int
	// Field is the dotted path of the offending field, with 0-based list
	// indexes: "departments[3].name.zh". Empty for file-level problems.
	Field string
	ZH    string // Simplified Chinese message
	EN    string // English message
}

// Localize formats the problem as "file:line:col: field: message" in lang:
// "en" (or any "en-…" tag) for English, anything else for Simplified Chinese,
// which is the default because the people editing manifests are Chinese
// operators.
func (p Problem) Localize(lang string) string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	if isEnglish(lang) {
		b.WriteString(p.EN)
	} else {
		b.WriteString(p.ZH)
	}
	return b.String()
}

// Error returns the problem in the default language (zh-CN).
func (p Problem) Error() string { return p.Localize("zh-CN") }

func isEnglish(lang string) bool {
	lang = strings.ToLower(strings.TrimSpace(lang))
	return lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_")
}

// Problems is every problem found in a manifest or tree. Loaders return it as
// their error so that one run shows the operator everything to fix.
type Problems []Problem

// Localize formats one problem per line (see Problem.Localize).
func (ps Problems) Localize(lang string) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Localize(lang)
	}
	return strings.Join(lines, "\n")
}

// Error returns the problems in the default language (zh-CN), one per line.
func (ps Problems) Error() string { return ps.Localize("zh-CN") }

// err returns ps as an error, or a nil error (not a nil Problems wrapped in
// an interface) when there is nothing to report.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// sort orders problems by file and position so that output reads top to
// bottom; the sort is stable so problems at one position keep the order in
// which the checks found them.
func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}

// Pos locates a manifest item, so that a later step (onboarding, which checks
// the database) can report against the same line as the loader would.
type Pos struct {
	File         string
	Line, Column int
}

// Problem builds a Problem at p.
func (p Pos) Problem(field, zh, en string) Problem {
	return Problem{File: p.File, Line: p.Line, Column: p.Column, Field: field, ZH: zh, EN: en}
}
