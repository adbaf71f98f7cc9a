// Package sheet holds what the CSV/XLSX imports of reference data (the
// taxonomy table, the dispatch matrix) report about a file: its problems,
// each with its line and column, in zh-CN and en.
package sheet

import (
	"fmt"
	"strings"
)

// Problem is one bad row or cell of an import file.
type Problem struct {
	// Line is the 1-based CSV line or XLSX row (the header's own line for
	// a column problem); 0 for the file as a whole.
	Line int
	// Column is the column as the file names it; "" for the whole row.
	Column string
	ZH, EN string
}

// Localize renders the problem in zh-CN or en.
func (p Problem) Localize(lang string) string {
	en := lang == "en"
	var b strings.Builder
	switch {
	case p.Line > 0 && en:
		fmt.Fprintf(&b, "line %d", p.Line)
	case p.Line > 0:
		fmt.Fprintf(&b, "第 %d 行", p.Line)
	case en:
		b.WriteString("file")
	default:
		b.WriteString("文件")
	}
	if p.Column != "" {
		if en {
			fmt.Fprintf(&b, ", column %s", p.Column)
		} else {
			fmt.Fprintf(&b, "「%s」列", p.Column)
		}
	}
	if en {
		return b.String() + ": " + p.EN
	}
	return b.String() + "：" + p.ZH
}

// Problems is every problem of an import file; as an error it reads in
// English.
type Problems []Problem

// Error lists the first problems in English.
func (ps Problems) Error() string {
	parts := make([]string, 0, min(len(ps), 6))
	for i, p := range ps {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-5))
			break
		}
		parts = append(parts, p.Localize("en"))
	}
	return strings.Join(parts, "; ")
}

// Summary renders up to n problems in zh-CN or en, one per line.
func (ps Problems) Summary(lang string, n int) string {
	lines := make([]string, 0, min(len(ps), n)+1)
	for i, p := range ps {
		if i == n {
			if lang == "en" {
				lines = append(lines, fmt.Sprintf("… and %d more problem(s)", len(ps)-n))
			} else {
				lines = append(lines, fmt.Sprintf("……另有 %d 个问题", len(ps)-n))
			}
			break
		}
		lines = append(lines, p.Localize(lang))
	}
	return strings.Join(lines, "\n")
}
