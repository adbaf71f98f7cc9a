package dispatch

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	"github.com/cityops/cityops/app/pkg/sheet"
)

// Format is a rule-table file format.
type Format string

// Formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// The columns of the rule table, as a city fills it in. Export writes the
// headers with their hints (类型(矩阵/兜底) …); import matches a header by
// its name before any bracket, so "类型" and "类型（矩阵/兜底）" both work.
const (
	ColCode       = "规则编号"
	ColName       = "规则名称"
	ColKind       = "类型"
	ColClass      = "小类代码"
	ColCondition  = "立案条件"
	ColLevel      = "区域层级"
	ColRegion     = "区域代码"
	ColArea       = "区域类别"
	ColFrom       = "开始时间"
	ColTo         = "结束时间"
	ColDepartment = "主办单位"
	ColCo         = "协办单位"
	ColRotation   = "轮换单位"
	ColPeriod     = "轮换周期"
	ColAnchor     = "轮换起始"
	ColPriority   = "优先级"
	ColEnabled    = "启用"
	ColNote       = "备注"
)

// columns are the columns in export order, with the header export writes
// and the rule field each fills (as Violation.Field names it).
var columns = []struct{ name, header, field string }{
	{ColCode, ColCode, "code"},
	{ColName, ColName, "name"},
	{ColKind, "类型(矩阵/兜底)", "kind"},
	{ColClass, ColClass, "class_code"},
	{ColCondition, ColCondition, "filing_condition_code"},
	{ColLevel, "区域层级(网格/社区/街道/区县/全部)", "region_level"},
	{ColRegion, ColRegion, "region_code"},
	{ColArea, ColArea, "area_class"},
	{ColFrom, ColFrom, "time_from"},
	{ColTo, ColTo, "time_to"},
	{ColDepartment, ColDepartment, "department_code"},
	{ColCo, "协办单位(逗号分隔)", "co_department_codes"},
	{ColRotation, ColRotation, "rotation_departments"},
	{ColPeriod, "轮换周期(日/周/月)", "rotation_period"},
	{ColAnchor, ColAnchor, "rotation_anchor"},
	{ColPriority, ColPriority, "priority"},
	{ColEnabled, ColEnabled, "enabled"},
	{ColNote, ColNote, "note"},
}

// Headers returns the header row export writes.
func Headers() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.header
	}
	return out
}

// Limits of an import file.
const (
	MaxImportBytes = 4 << 20
	MaxImportRows  = 20000
	MaxCellRunes   = 1024
	// MaxProblems bounds the problems reported: past it the file is
	// clearly not a rule table.
	MaxProblems = 500
	// maxTitleRows is how many title rows may stand above the header.
	maxTitleRows = 3
)

// Problem is one bad row or cell of an import file (sheet.Problem).
type Problem = sheet.Problem

// Problems is every problem of an import file (sheet.Problems).
type Problems = sheet.Problems

// maxDetailProblems is how many problems a DISPATCH_IMPORT_REJECTED
// message spells out; the error's cause (Problems) holds them all.
const maxDetailProblems = 20

// ImportRejected is DISPATCH_IMPORT_REJECTED listing the problems of a
// file; the problems are its cause (errors.As(err, &Problems{})).
func ImportRejected(ps Problems) error {
	zh := fmt.Sprintf("发现 %d 个问题：\n%s", len(ps), ps.Summary("zh-CN", maxDetailProblems))
	en := fmt.Sprintf("%d problem(s):\n%s", len(ps), ps.Summary("en", maxDetailProblems))
	return dispatchv1.ErrorDispatchImportRejected("dispatch import: %s", ps.Error()).WithMetadata(map[string]string{
		"detail": en, "detail_zh": zh, "detail_en": en, "problems": strconv.Itoa(len(ps)),
	}).WithCause(ps)
}

// Table is a parsed rule file: its good rows as rules, each with its line.
type Table struct {
	Rules []*Rule
	Lines []int
	// Rows counts the data rows read (empty rows not counted).
	Rows int
	// header names each column's field as the file spells it.
	header map[string]string
}

// Column returns the column of a rule field as the file names it.
func (t *Table) Column(field string) string {
	if h, ok := t.header[field]; ok {
		return h
	}
	for _, c := range columns {
		if c.field == field {
			return c.name
		}
	}
	return ""
}

// DetectFormat tells XLSX (a zip container) from CSV by the content.
func DetectFormat(data []byte) Format {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return FormatXLSX
	}
	return FormatCSV
}

// headerName is the column a header cell names: the text before any
// bracket, without spaces.
func headerName(cell string) string {
	s := strings.TrimPrefix(strings.TrimSpace(cell), "\uFEFF")
	if i := strings.IndexAny(s, "(（["); i >= 0 {
		s = s[:i]
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\u3000' || r == '*' {
			return -1
		}
		return r
	}, s)
}

// columnOf maps a header cell to its column, accepting the names vendor
// templates use for the same thing.
func columnOf(cell string) (string, bool) {
	switch k := headerName(cell); k {
	case ColCode, "规则代码", "规则编码", "编号":
		return ColCode, true
	case ColName, "名称":
		return ColName, true
	case ColKind, "规则类型":
		return ColKind, true
	case ColClass, "小类编码", "小类编号", "案件小类", "小类":
		return ColClass, true
	case ColCondition, "立案条件编码", "立案条件代码":
		return ColCondition, true
	case ColLevel, "区域级别":
		return ColLevel, true
	case ColRegion, "区域编码", "区域编号":
		return ColRegion, true
	case ColArea:
		return ColArea, true
	case ColFrom, "起始时间":
		return ColFrom, true
	case ColTo, "截止时间":
		return ColTo, true
	case ColDepartment, "主办部门", "责任单位":
		return ColDepartment, true
	case ColCo, "协办部门":
		return ColCo, true
	case ColRotation, "轮流单位", "轮换部门":
		return ColRotation, true
	case ColPeriod:
		return ColPeriod, true
	case ColAnchor, "轮换起始时间", "轮换开始":
		return ColAnchor, true
	case ColPriority:
		return ColPriority, true
	case ColEnabled, "是否启用", "状态":
		return ColEnabled, true
	case ColNote, "说明":
		return ColNote, true
	}
	return "", false
}

// ParseTable reads a rule table. It returns nil and the problems when the
// file as a whole is unusable (unreadable, wrong columns); otherwise the
// rules of its good rows and a problem for every bad one. Cells are only
// parsed here; Rule.check and the departments are checked by Import. It
// never panics on any input (FuzzParseTable). Times are read in loc.
func ParseTable(data []byte, format Format, loc *time.Location) (*Table, Problems) {
	if format == "" {
		format = DetectFormat(data)
	}
	var (
		recs  [][]string
		lines []int
		prob  *Problem
	)
	switch format {
	case FormatXLSX:
		recs, lines, prob = sheet.ReadXLSX(data, MaxImportRows+maxTitleRows+1, true)
	case FormatCSV:
		recs, lines, prob = sheet.ReadCSV(data, MaxImportRows+maxTitleRows+1)
	default:
		prob = &Problem{ZH: "未知的文件格式 " + string(format) + "（应为 csv 或 xlsx）", EN: "unknown file format " + string(format) + " (use csv or xlsx)"}
	}
	if prob != nil {
		return nil, Problems{*prob}
	}
	if len(recs) == 0 {
		return nil, Problems{{ZH: "文件为空，缺少表头", EN: "the file is empty; it has no header row"}}
	}
	h := 0
	for i := range min(len(recs), maxTitleRows+1) {
		if knownColumns(recs[i]) >= 3 {
			h = i
			break
		}
	}
	recs, lines = recs[h:], lines[h:]
	cols, probs := mapHeader(recs[0], lines[0])
	if len(probs) > 0 {
		return nil, probs
	}
	if len(recs)-1 > MaxImportRows {
		return nil, Problems{{ZH: fmt.Sprintf("行数过多：最多 %d 行", MaxImportRows), EN: fmt.Sprintf("too many rows: at most %d", MaxImportRows)}}
	}
	p := &parser{cols: cols, header: recs[0], loc: loc, t: &Table{header: map[string]string{}}}
	for _, c := range columns {
		if i := cols[c.name]; i >= 0 {
			p.t.header[c.field] = strings.TrimSpace(strings.TrimPrefix(recs[0][i], "\uFEFF"))
		}
	}
	for i, rec := range recs[1:] {
		p.row(lines[i+1], rec)
		if len(p.problems) >= MaxProblems {
			break
		}
	}
	return p.t, p.problems
}

func knownColumns(rec []string) int {
	n := 0
	for _, c := range rec {
		if _, ok := columnOf(c); ok {
			n++
		}
	}
	return n
}

func mapHeader(header []string, line int) (map[string]int, Problems) {
	cols := make(map[string]int, len(columns))
	for _, c := range columns {
		cols[c.name] = -1
	}
	var probs Problems
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	for i, cell := range header {
		if strings.TrimSpace(cell) == "" {
			continue
		}
		c, ok := columnOf(cell)
		switch {
		case !ok:
			probs = append(probs, Problem{Line: line, Column: cell, ZH: "未知的列；可用的列为 " + strings.Join(names, "、"),
				EN: "unknown column; the columns are " + strings.Join(names, ", ")})
		case cols[c] >= 0:
			probs = append(probs, Problem{Line: line, Column: cell, ZH: "列重复", EN: "the column appears twice"})
		default:
			cols[c] = i
		}
	}
	if cols[ColCode] < 0 {
		probs = append(probs, Problem{Line: line, Column: ColCode, ZH: "缺少必需的列", EN: "a required column is missing"})
	}
	if cols[ColDepartment] < 0 && cols[ColRotation] < 0 {
		probs = append(probs, Problem{Line: line, Column: ColDepartment, ZH: "缺少主办单位列（或轮换单位列）", EN: "the department column (or the rotation column) is missing"})
	}
	return cols, probs
}

// parser holds the state of one ParseTable call.
type parser struct {
	cols     map[string]int
	header   []string
	loc      *time.Location
	t        *Table
	problems Problems
}

func (p *parser) cell(rec []string, col string) string {
	i := p.cols[col]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(strings.Trim(rec[i], "\uFEFF\u200B"))
}

// h is the column as the file names it.
func (p *parser) h(col string) string {
	if i := p.cols[col]; i >= 0 && i < len(p.header) {
		return strings.TrimSpace(strings.TrimPrefix(p.header[i], "\uFEFF"))
	}
	return col
}

func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",，、;；/ \n", r) })
	out := make([]string, 0, len(f))
	for _, x := range f {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// excelSerial reads a spreadsheet number ("46023.3333"); ok false when s
// is not a plain decimal number.
func excelSerial(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, ":-/ eEx") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseClockCell reads a time cell: HH:MM, or Excel's fraction of a day.
func parseClockCell(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if f, ok := excelSerial(s); ok {
		if f < 0 || f >= 1 {
			return "", false
		}
		m := int(math.Round(f * 24 * 60))
		if m >= 24*60 {
			return "", false
		}
		return fmt.Sprintf("%02d:%02d", m/60, m%60), true
	}
	_, c, ok := ParseClock(s)
	return c, ok
}

// anchorLayouts are the date-times 轮换起始 accepts, read in the tenant's
// zone; RFC 3339 carries its own offset.
var anchorLayouts = []string{
	"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02", "2006/1/2 15:04", "2006/1/2 15:04:05",
	"2006/1/2", "2006.1.2", "20060102", "2006年1月2日", "2006年1月2日 15:04",
}

// excelEpoch is day 0 of Excel's 1900 date system (which counts the
// non-existent 29 Feb 1900, hence 30 Dec 1899).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// ParseAnchor reads a 轮换起始 cell in loc.
func ParseAnchor(s string, loc *time.Location) (time.Time, bool) {
	if f, ok := excelSerial(s); ok && !(len(s) == 8 && digitsRE.MatchString(s)) {
		if f < 1 || f > 2958465 { // 9999-12-31
			return time.Time{}, false
		}
		days := math.Floor(f)
		secs := math.Round((f - days) * 86400)
		wall := excelEpoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range anchorLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FormatAnchor writes a 轮换起始 cell in loc.
func FormatAnchor(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04")
}

func parseKind(s string) (Kind, bool) {
	switch strings.ToLower(s) {
	case "", "矩阵", "责任矩阵", "matrix":
		return KindMatrix, true
	case "兜底", "fallback":
		return KindFallback, true
	}
	return "", false
}

func parseLevel(s, code string) (RegionLevel, bool) {
	switch strings.ToLower(headerName(s)) {
	case "":
		switch len(code) {
		case 0:
			return LevelAny, true
		case 6:
			return LevelDistrict, true
		case 9:
			return LevelStreet, true
		case 12:
			return LevelCommunity, true
		case 15:
			return LevelGrid, true
		}
		return "", false
	case "全部", "任意", "不限", "any":
		return LevelAny, true
	case "网格", "单元网格", "grid":
		return LevelGrid, true
	case "社区", "村", "社区/村", "community":
		return LevelCommunity, true
	case "街道", "乡镇", "街道/乡镇", "street":
		return LevelStreet, true
	case "区县", "区", "县", "区/县", "district":
		return LevelDistrict, true
	}
	return "", false
}

func parsePeriod(s string) (RotationPeriod, bool) {
	switch strings.ToLower(s) {
	case "", "无", "不轮换", "none":
		return RotationNone, true
	case "日", "天", "每日", "每天", "按日", "day":
		return RotationDay, true
	case "周", "每周", "按周", "week":
		return RotationWeek, true
	case "月", "每月", "按月", "month":
		return RotationMonth, true
	}
	return "", false
}

func parseEnabled(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "是", "启用", "有效", "1", "true", "y", "yes":
		return true, true
	case "否", "停用", "禁用", "无效", "0", "false", "n", "no":
		return false, true
	}
	return false, false
}

func parsePriority(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if f, ok := excelSerial(s); ok && f == math.Trunc(f) && math.Abs(f) <= MaxPriorityAbs {
		return int(f), true
	}
	return 0, false
}

func (p *parser) row(line int, rec []string) {
	empty := true
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			empty = false
			break
		}
	}
	if empty {
		return
	}
	p.t.Rows++
	var probs Problems
	add := func(col, zh, en string) {
		probs = append(probs, Problem{Line: line, Column: col, ZH: zh, EN: en})
	}
	if len(rec) > len(p.header) {
		for _, extra := range rec[len(p.header):] {
			if strings.TrimSpace(extra) != "" {
				add("", "单元格多于表头的列数", "the row has more cells than the header has columns")
				break
			}
		}
	}
	for i, c := range rec {
		if utf8.RuneCountInString(c) > MaxCellRunes || !utf8.ValidString(c) {
			name := ""
			if i < len(p.header) {
				name = p.header[i]
			}
			add(name, fmt.Sprintf("单元格过长（最多 %d 字）或含非法字符", MaxCellRunes), fmt.Sprintf("the cell is too long (at most %d characters) or not valid text", MaxCellRunes))
		}
	}
	r := &Rule{
		Code: p.cell(rec, ColCode), Name: p.cell(rec, ColName), ClassCode: p.cell(rec, ColClass),
		FilingConditionCode: p.cell(rec, ColCondition), RegionCode: strings.ToUpper(p.cell(rec, ColRegion)),
		AreaClass: p.cell(rec, ColArea), DepartmentCode: p.cell(rec, ColDepartment),
		CoDepartmentCodes: splitList(p.cell(rec, ColCo)), RotationDepartments: splitList(p.cell(rec, ColRotation)),
		Note: p.cell(rec, ColNote),
	}
	var ok bool
	if r.Kind, ok = parseKind(p.cell(rec, ColKind)); !ok {
		add(p.h(ColKind), "类型只能是 矩阵 或 兜底："+p.cell(rec, ColKind), "the kind must be 矩阵 (matrix) or 兜底 (fallback): "+p.cell(rec, ColKind))
	}
	if r.RegionLevel, ok = parseLevel(p.cell(rec, ColLevel), r.RegionCode); !ok {
		if p.cell(rec, ColLevel) == "" {
			add(p.h(ColLevel), "区域层级为空，且无法从区域代码的位数（6/9/12/15）判断", "the region level is empty and the region code's length (6/9/12/15) does not tell it")
		} else {
			add(p.h(ColLevel), "区域层级只能是 网格、社区、街道、区县 或 全部："+p.cell(rec, ColLevel), "the region level must be 网格, 社区, 街道, 区县 or 全部: "+p.cell(rec, ColLevel))
		}
	}
	for _, x := range []struct {
		col string
		dst *string
	}{{ColFrom, &r.TimeFrom}, {ColTo, &r.TimeTo}} {
		v := p.cell(rec, x.col)
		c, ok := parseClockCell(v)
		if !ok {
			add(p.h(x.col), "时间须为 HH:MM（00:00–23:59）："+v, "a time is HH:MM (00:00–23:59): "+v)
		}
		*x.dst = c
	}
	if r.RotationPeriod, ok = parsePeriod(p.cell(rec, ColPeriod)); !ok {
		add(p.h(ColPeriod), "轮换周期只能是 日、周 或 月（不轮换则不填）："+p.cell(rec, ColPeriod), "the rotation period must be 日, 周 or 月 (empty for none): "+p.cell(rec, ColPeriod))
	}
	if v := p.cell(rec, ColAnchor); v != "" {
		t, ok := ParseAnchor(v, p.loc)
		if !ok {
			add(p.h(ColAnchor), "轮换起始须为日期时间，如 2026-01-01 08:00："+v, "the rotation anchor is a date and time such as 2026-01-01 08:00: "+v)
		} else {
			r.RotationAnchor = &t
		}
	}
	if r.Priority, ok = parsePriority(p.cell(rec, ColPriority)); !ok {
		add(p.h(ColPriority), "优先级须为整数："+p.cell(rec, ColPriority), "the priority is a whole number: "+p.cell(rec, ColPriority))
	}
	if r.Enabled, ok = parseEnabled(p.cell(rec, ColEnabled)); !ok {
		add(p.h(ColEnabled), "启用只能是 是 或 否："+p.cell(rec, ColEnabled), "启用 (enabled) must be 是 or 否: "+p.cell(rec, ColEnabled))
	}
	if len(probs) > 0 {
		p.problems = append(p.problems, probs...)
		return
	}
	p.t.Rules = append(p.t.Rules, r)
	p.t.Lines = append(p.t.Lines, line)
}

// tableRow lays a rule out as a table row.
func tableRow(r *Rule, loc *time.Location) []string {
	kind := "矩阵"
	if r.Kind == KindFallback {
		kind = "兜底"
	}
	period := map[RotationPeriod]string{RotationDay: "日", RotationWeek: "周", RotationMonth: "月"}[r.RotationPeriod]
	anchor := ""
	if r.RotationAnchor != nil {
		anchor = FormatAnchor(*r.RotationAnchor, loc)
	}
	enabled := "是"
	if !r.Enabled {
		enabled = "否"
	}
	return []string{
		r.Code, r.Name, kind, r.ClassCode, r.FilingConditionCode, levelZH(r.RegionLevel), r.RegionCode, r.AreaClass,
		r.TimeFrom, r.TimeTo, r.DepartmentCode, strings.Join(r.CoDepartmentCodes, ","), strings.Join(r.RotationDepartments, ","),
		period, anchor, strconv.Itoa(r.Priority), enabled, r.Note,
	}
}

// SheetName is the name of the worksheet export writes.
const SheetName = "派遣规则"

// WriteTable writes rules as the rule table and returns the file. CSV is
// UTF-8 with a BOM (so Excel opens it as UTF-8) and CRLF line ends; every
// XLSX cell is text, so codes keep their leading zeros.
func WriteTable(format Format, rules []*Rule, loc *time.Location) ([]byte, error) {
	switch format {
	case FormatCSV, "":
		var buf bytes.Buffer
		buf.WriteString("\uFEFF")
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		if err := w.Write(Headers()); err != nil {
			return nil, fmt.Errorf("write dispatch csv: %w", err)
		}
		for _, r := range rules {
			if err := w.Write(tableRow(r, loc)); err != nil {
				return nil, fmt.Errorf("write dispatch csv: %w", err)
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("write dispatch csv: %w", err)
		}
		return buf.Bytes(), nil
	case FormatXLSX:
		return writeXLSX(rules, loc)
	}
	return nil, fmt.Errorf("write dispatch rules: unknown format %q", format)
}

func writeXLSX(rules []*Rule, loc *time.Location) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), SheetName); err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	write := func(n int, cells []string) error {
		ref, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = excelize.Cell{Value: c}
		}
		return sw.SetRow(ref, vals)
	}
	if err := sw.SetColWidth(1, len(columns), 14); err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	if err := write(1, Headers()); err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	for i, r := range rules {
		if err := write(i+2, tableRow(r, loc)); err != nil {
			return nil, fmt.Errorf("write dispatch xlsx: row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write dispatch xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
