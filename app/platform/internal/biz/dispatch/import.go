package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ImportInput is a rule table to import.
type ImportInput struct {
	TenantCode string
	Data       []byte
	Format     Format // "" detects
	// DryRun checks the file and reports what would be written, writing
	// nothing.
	DryRun bool
	// Replace also deletes the tenant's rules the file does not list.
	Replace bool
}

// ImportResult says what an import did (or, dry, would do).
type ImportResult struct {
	Rows                                 int
	Created, Updated, Unchanged, Deleted int
	DryRun                               bool
	// Problems are the bad rows of a dry run (a real run with any is
	// rejected).
	Problems Problems
}

// Import reads a rule table and writes it all or nothing in one
// transaction: every row is checked first (cells, rule checks, duplicate
// codes, departments); a file with any bad row is refused as a whole with
// DISPATCH_IMPORT_REJECTED listing each problem (line, column, zh and en),
// and a dry run returns them instead. Rules are matched by code: new codes
// are created, changed rules updated (their counters kept), the rest left
// as they are.
func (u *Usecase) Import(ctx context.Context, in ImportInput) (*ImportResult, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	if len(in.Data) == 0 {
		return nil, ImportRejected(Problems{{ZH: "文件为空", EN: "the file is empty"}})
	}
	if len(in.Data) > MaxImportBytes {
		return nil, ImportRejected(Problems{{ZH: fmt.Sprintf("文件过大：最多 %d 字节", MaxImportBytes), EN: fmt.Sprintf("the file is too large: at most %d bytes", MaxImportBytes)}})
	}
	if in.Format != "" && in.Format != FormatCSV && in.Format != FormatXLSX {
		return nil, Invalid("format", "格式只能是 csv 或 xlsx", "the format must be csv or xlsx")
	}
	tbl, probs := ParseTable(in.Data, in.Format, u.cfg.Location)
	if tbl == nil {
		return nil, ImportRejected(probs)
	}
	var rules []*Rule
	var lines []int
	seen := map[string]int{}
	var codes []string
	for i, r := range tbl.Rules {
		line := tbl.Lines[i]
		r.normalize()
		vs := r.check()
		if first, dup := seen[r.Code]; dup && r.Code != "" {
			vs = append(vs, Violation{Field: "code", ZH: fmt.Sprintf("规则编号 %s 与第 %d 行重复", r.Code, first), EN: fmt.Sprintf("rule code %s repeats line %d", r.Code, first)})
		} else if r.Code != "" {
			seen[r.Code] = line
		}
		for _, v := range vs {
			probs = append(probs, Problem{Line: line, Column: tbl.Column(v.Field), ZH: v.ZH, EN: v.EN})
		}
		if len(vs) == 0 {
			rules = append(rules, r)
			lines = append(lines, line)
			codes = append(codes, r.departmentCodes()...)
		}
	}
	if codes = uniq(codes); len(codes) > 0 {
		active, err := u.deps.Active(ctx, t.ID, codes)
		if err != nil {
			return nil, err
		}
		kept := rules[:0]
		for i, r := range rules {
			vs := r.checkActive(active)
			for _, v := range vs {
				probs = append(probs, Problem{Line: lines[i], Column: tbl.Column(v.Field), ZH: v.ZH, EN: v.EN})
			}
			if len(vs) == 0 {
				kept = append(kept, r)
			}
		}
		rules = kept
	}
	slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
	if len(probs) > 0 && !in.DryRun {
		return nil, ImportRejected(probs)
	}
	if len(tbl.Rules) == 0 && len(probs) == 0 {
		return nil, ImportRejected(Problems{{ZH: "文件中没有规则", EN: "the file holds no rule"}})
	}
	res := &ImportResult{Rows: tbl.Rows, DryRun: in.DryRun, Problems: probs}
	if in.DryRun {
		// What would be written: the good rows against the stored rules.
		if err := u.apply(ctx, t.ID, rules, in.Replace, res, false); err != nil {
			return nil, err
		}
		return res, nil
	}
	defer u.invalidate(t.ID)
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		return u.apply(ctx, t.ID, rules, in.Replace, res, true)
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch import: %w", err)
	}
	return res, nil
}

// apply compares rules with the stored ones and counts (and, with write,
// makes) the changes.
func (u *Usecase) apply(ctx context.Context, tenantID int, rules []*Rule, replace bool, res *ImportResult, write bool) error {
	stored, err := u.repo.All(ctx, tenantID)
	if err != nil {
		return err
	}
	byCode := make(map[string]*Rule, len(stored))
	for _, r := range stored {
		byCode[r.Code] = r
	}
	inFile := make(map[string]bool, len(rules))
	for _, r := range rules {
		inFile[r.Code] = true
		old, ok := byCode[r.Code]
		switch {
		case !ok:
			res.Created++
			if write {
				if _, err := u.repo.Create(ctx, tenantID, r); err != nil {
					return err
				}
			}
		case sameSettings(old, r):
			res.Unchanged++
		default:
			res.Updated++
			if write {
				if _, err := u.repo.Update(ctx, tenantID, r, false); err != nil {
					return err
				}
			}
		}
	}
	if !replace {
		return nil
	}
	for _, r := range stored {
		if inFile[r.Code] {
			continue
		}
		res.Deleted++
		if write {
			if err := u.repo.Delete(ctx, tenantID, r.Code); err != nil {
				return err
			}
		}
	}
	return nil
}

// Export writes every rule of the tenant, by code, as the import template
// and returns the file and its number of rules.
func (u *Usecase) Export(ctx context.Context, tenantCode string, format Format) ([]byte, int, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, 0, err
	}
	if format == "" {
		format = FormatCSV
	}
	if format != FormatCSV && format != FormatXLSX {
		return nil, 0, Invalid("format", "格式只能是 csv 或 xlsx", "the format must be csv or xlsx")
	}
	rules, err := u.repo.All(ctx, t.ID)
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(rules, func(a, b *Rule) int { return strings.Compare(a.Code, b.Code) })
	b, err := WriteTable(format, rules, u.cfg.Location)
	if err != nil {
		return nil, 0, err
	}
	return b, len(rules), nil
}
