package taxonomy

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/cityops/cityops/app/pkg/sheet"
)

// Format is a classification-table file format.
type Format string

// Formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// The columns of the classification table cities exchange (立结案标准表).
// The first twelve are required; 类别, 国标代码 and 状态 are optional on
// import and always written on export, after the others so that a city's
// old system still finds its columns where it expects them.
const (
	ColMajorCode  = "大类代码"
	ColMajorName  = "大类名称"
	ColMinorCode  = "小类代码"
	ColMinorName  = "小类名称"
	ColCondCode   = "立案条件编码"
	ColCondText   = "立案条件"
	ColLimitA     = "处置时限 A"
	ColLimitB     = "处置时限 B"
	ColLimitC     = "处置时限 C"
	ColClosing    = "结案条件"
	ColUrgency    = "紧急程度"
	ColNote       = "备注"
	ColKind       = "类别"
	ColNational   = "国标代码"
	ColStatus     = "状态"
	colCount      = 15
	requiredCount = 12
)

// Columns returns the columns in the order export writes them.
func Columns() []string {
	return []string{ColMajorCode, ColMajorName, ColMinorCode, ColMinorName, ColCondCode, ColCondText,
		ColLimitA, ColLimitB, ColLimitC, ColClosing, ColUrgency, ColNote, ColKind, ColNational, ColStatus}
}

// Limits of an import file.
const (
	MaxImportBytes = 4 << 20 // the API's bound; a city's table is a few hundred KiB
	MaxImportRows  = 20000
	MaxCellRunes   = 1024
	// MaxProblems bounds the problems reported: past it the file is
	// clearly not a classification table.
	MaxProblems = 200
)

// Problem is one bad row or cell of an import file (sheet.Problem).
type Problem = sheet.Problem

// Problems is every problem of an import file (sheet.Problems).
type Problems = sheet.Problems

// ParseOptions says how to read a table.
type ParseOptions struct {
	// Format is csv or xlsx; "" detects it from the content.
	Format Format
	// DefaultKind is the kind of rows when the file has no 类别 column.
	DefaultKind Kind
	// SchemeHint is the scheme assumed when no row has a minor code.
	SchemeHint string
	// Reference checks 国标代码 cells against GB/T 47678.5-2026; nil skips.
	Reference *Reference
}

// Table is a parsed classification table: the classes and filing
// conditions of the rows without problems, in the order first seen.
type Table struct {
	Scheme Scheme
	// Kinds are the kinds the rows cover.
	Kinds      []Kind
	Classes    []Class
	Conditions []FilingCondition
	// Rows counts the data rows read (empty rows not counted).
	Rows int
}

// ParseTable reads a classification table. It returns nil and the
// problems when the file as a whole is unusable (unreadable, not a table,
// wrong columns); otherwise the table of its good rows and a problem for
// every bad one. It never writes anything and never panics on any input
// (FuzzImportCSV).
func ParseTable(data []byte, opts ParseOptions) (*Table, Problems) {
	records, lines, prob := readRecords(data, opts.Format)
	if prob != nil {
		return nil, Problems{*prob}
	}
	if len(records) == 0 {
		return nil, Problems{{ZH: "文件为空，缺少表头", EN: "the file is empty; it has no header row"}}
	}
	// Tables printed for people often start with a title row
	// (“××市数字城管立结案标准”); the header is the first of the top rows
	// that names several known columns.
	h := 0
	for i := range min(len(records), maxTitleRows+1) {
		if knownColumns(records[i]) >= 4 {
			h = i
			break
		}
	}
	records, lines = records[h:], lines[h:]
	cols, probs := mapHeader(records[0], lines[0])
	if len(probs) > 0 {
		return nil, probs
	}
	if cols[ColKind] < 0 && !opts.DefaultKind.Valid() {
		return nil, Problems{{Line: lines[0], ZH: "文件没有“类别”列（部件/事件），请添加该列或指定默认类别",
			EN: "the file has no 类别 column (部件/事件); add one or give a default kind"}}
	}
	if len(records)-1 > MaxImportRows {
		return nil, Problems{{ZH: fmt.Sprintf("行数过多：最多 %d 行", MaxImportRows), EN: fmt.Sprintf("too many rows: at most %d", MaxImportRows)}}
	}
	p := &parser{opts: opts, cols: cols, header: records[0], classAt: map[classKey]int{}, classLine: map[classKey]int{},
		condAt: map[string]int{}, lines: map[classKey][]int{}}
	p.scheme = p.detectScheme(records[1:])
	for i, rec := range records[1:] {
		p.row(lines[i+1], rec)
		if len(p.problems) >= MaxProblems {
			break
		}
	}
	return p.finish()
}

// readRecords decodes the file into records and their line numbers.
func readRecords(data []byte, format Format) ([][]string, []int, *Problem) {
	if format == "" {
		format = DetectFormat(data)
	}
	switch format {
	case FormatXLSX:
		return sheet.ReadXLSX(data, MaxImportRows+1, false)
	case FormatCSV:
		return sheet.ReadCSV(data, MaxImportRows+1)
	}
	return nil, nil, &Problem{ZH: "未知的文件格式 " + string(format) + "（应为 csv 或 xlsx）", EN: "unknown file format " + string(format) + " (use csv or xlsx)"}
}

// DetectFormat tells XLSX (a zip container) from CSV by the content.
func DetectFormat(data []byte) Format {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return FormatXLSX
	}
	return FormatCSV
}

// headerKey normalizes a header cell: no spaces or brackets, upper-case
// Latin letters, so "处置时限 A", "处置时限A" and "处置时限（A）" match.
func headerKey(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\u3000' || strings.ContainsRune("()（）", r):
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'Ａ' && r <= 'Ｚ':
			b.WriteRune(r - 'Ａ' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// columnOf maps a header cell to its column, accepting the names vendor
// templates use for the same thing.
func columnOf(cell string) (string, bool) {
	k := headerKey(cell)
	if strings.Contains(k, "时限") {
		k = strings.NewReplacer("可选", "", "类", "", "区域", "").Replace(k)
		switch k {
		case "处置时限A", "A处置时限":
			return ColLimitA, true
		case "处置时限B", "B处置时限":
			return ColLimitB, true
		case "处置时限C", "C处置时限":
			return ColLimitC, true
		}
		return "", false
	}
	switch k {
	case "大类代码", "大类编码", "大类编号":
		return ColMajorCode, true
	case "大类名称":
		return ColMajorName, true
	case "小类代码", "小类编码", "小类编号":
		return ColMinorCode, true
	case "小类名称":
		return ColMinorName, true
	case "立案条件编码", "立案明细编码", "立案条件代码", "立案条件编号":
		return ColCondCode, true
	case "立案条件", "立案标准":
		return ColCondText, true
	case "结案条件", "结案标准":
		return ColClosing, true
	case "紧急程度", "是否紧急":
		return ColUrgency, true
	case "备注", "说明":
		return ColNote, true
	case "类别", "类型", "部件/事件":
		return ColKind, true
	case "国标代码", "国标编码", "2026代码":
		return ColNational, true
	case "状态", "启用状态":
		return ColStatus, true
	}
	return "", false
}

// maxTitleRows is how many title rows may stand above the header.
const maxTitleRows = 3

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
	cols := make(map[string]int, colCount)
	for _, c := range Columns() {
		cols[c] = -1
	}
	var probs Problems
	for i, cell := range header {
		if strings.TrimSpace(cell) == "" {
			continue
		}
		c, ok := columnOf(cell)
		switch {
		case !ok:
			probs = append(probs, Problem{Line: line, Column: cell, ZH: "未知的列；应有的列为 " + strings.Join(Columns()[:requiredCount], "、") + "（可选 类别、国标代码、状态）",
				EN: "unknown column; the columns are " + strings.Join(Columns()[:requiredCount], ", ") + " (optional 类别, 国标代码, 状态)"})
		case cols[c] >= 0:
			probs = append(probs, Problem{Line: line, Column: cell, ZH: "列重复", EN: "the column appears twice"})
		default:
			cols[c] = i
		}
	}
	for _, c := range Columns()[:requiredCount] {
		if cols[c] < 0 {
			probs = append(probs, Problem{Line: line, Column: c, ZH: "缺少必需的列", EN: "a required column is missing"})
		}
	}
	return cols, probs
}

// ValidConditionCode reports whether s may be a 立案条件编码: 1–32
// letters, digits, dots, dashes or underscores.
func ValidConditionCode(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parser holds the state of one ParseTable call.
type parser struct {
	opts     ParseOptions
	cols     map[string]int
	header   []string
	scheme   Scheme
	problems Problems

	classes   []Class
	classAt   map[classKey]int // index in classes
	classLine map[classKey]int // first line declaring it
	conds     []FilingCondition
	condAt    map[string]int
	rows      int
	lines     map[classKey][]int // lines declaring each class
}

// detectScheme tells the scheme by the length of the first minor code:
// legacy codes are even (0101, 细类 010101), 2026 codes odd (01001, 0100101).
func (p *parser) detectScheme(recs [][]string) Scheme {
	for _, rec := range recs {
		major := padMajor(p.cell(rec, ColMajorCode))
		minor := fixZeros(p.cell(rec, ColMinorCode), major)
		if !allDigits(minor) || len(minor) < 4 {
			continue
		}
		if len(minor)%2 == 0 {
			s, _ := SchemeByID(SchemeCJT214)
			return s
		}
		s, _ := SchemeByID(SchemeGB47678)
		return s
	}
	if s, ok := SchemeByID(p.opts.SchemeHint); ok {
		return s
	}
	s, _ := SchemeByID(SchemeGB47678)
	return s
}

func (p *parser) cell(rec []string, col string) string {
	i := p.cols[col]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(strings.Trim(rec[i], "\uFEFF\u200B"))
}

// padMajor restores a major code whose leading zero a spreadsheet dropped
// when it stored the code as a number ("1" → "01").
func padMajor(s string) string {
	if len(s) == 1 && allDigits(s) {
		return "0" + s
	}
	return s
}

// fixZeros restores the leading zeros a spreadsheet dropped from a minor
// or 细类 code stored as a number: "1001" under major "01" is "01001".
func fixZeros(code, major string) string {
	if code == "" || !allDigits(code) || len(major) != 2 || strings.HasPrefix(code, major) {
		return code
	}
	for z := 1; z <= 2; z++ {
		c := strings.Repeat("0", z) + code
		if strings.HasPrefix(c, major) {
			return c
		}
	}
	return code
}

type rowProblems struct {
	line int
	list Problems
}

func (r *rowProblems) add(col, zh, en string) {
	r.list = append(r.list, Problem{Line: r.line, Column: col, ZH: zh, EN: en})
}

// headerName is the column as the file names it.
func (p *parser) headerName(col string) string {
	if i := p.cols[col]; i >= 0 && i < len(p.header) {
		return strings.TrimSpace(strings.TrimPrefix(p.header[i], "\uFEFF"))
	}
	return col
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
	p.rows++
	rp := &rowProblems{line: line}
	h := p.headerName
	if len(rec) > len(p.header) {
		for _, extra := range rec[len(p.header):] {
			if strings.TrimSpace(extra) != "" {
				rp.add("", "单元格多于表头的列数", "the row has more cells than the header has columns")
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
			rp.add(name, fmt.Sprintf("单元格过长（最多 %d 字）或含非法字符", MaxCellRunes), fmt.Sprintf("the cell is too long (at most %d characters) or not valid text", MaxCellRunes))
		}
	}

	kind := p.opts.DefaultKind
	if k := p.cell(rec, ColKind); k != "" || p.cols[ColKind] >= 0 {
		switch strings.ToLower(k) {
		case "部件", "component":
			kind = Component
		case "事件", "事项", "管理事项", "event":
			kind = Event
		case "":
			if !kind.Valid() {
				rp.add(h(ColKind), "类别为空（应为 部件 或 事件）", "the kind is empty (部件 or 事件)")
			}
		default:
			rp.add(h(ColKind), "类别只能是 部件 或 事件："+k, "the kind must be 部件 or 事件: "+k)
		}
	}

	majorCode := padMajor(p.cell(rec, ColMajorCode))
	majorName := p.cell(rec, ColMajorName)
	if !allDigits(majorCode) || len(majorCode) != 2 {
		rp.add(h(ColMajorCode), "大类代码应为 2 位数字："+majorCode, "the major code must be 2 digits: "+majorCode)
	}
	if majorName == "" {
		rp.add(h(ColMajorName), "大类名称不能为空", "the major name must not be empty")
	} else if utf8.RuneCountInString(majorName) > 128 {
		rp.add(h(ColMajorName), "名称最多 128 字", "the name is at most 128 characters")
	}

	minorCode := fixZeros(p.cell(rec, ColMinorCode), majorCode)
	minorName := p.cell(rec, ColMinorName)
	var level Level
	if minorCode != "" {
		lvl, ok := p.scheme.LevelOf(minorCode)
		switch {
		case !ok || lvl == Major:
			rp.add(h(ColMinorCode), fmt.Sprintf("按 %s，小类代码应为 %d 位、细类代码应为 %d 位数字：%s", p.scheme.Standard, p.scheme.MinorLen(), p.scheme.DetailLen(), minorCode),
				fmt.Sprintf("under %s a minor code has %d digits and a 细类 code %d: %s", p.scheme.Standard, p.scheme.MinorLen(), p.scheme.DetailLen(), minorCode))
		case !strings.HasPrefix(minorCode, majorCode):
			rp.add(h(ColMinorCode), "小类代码 "+minorCode+" 不属于大类 "+majorCode, "minor code "+minorCode+" does not belong to major "+majorCode)
		default:
			level = lvl
		}
		if minorName == "" {
			rp.add(h(ColMinorName), "小类名称不能为空", "the minor name must not be empty")
		} else if utf8.RuneCountInString(minorName) > 128 {
			rp.add(h(ColMinorName), "名称最多 128 字", "the name is at most 128 characters")
		}
	} else if minorName != "" {
		rp.add(h(ColMinorCode), "有小类名称却没有小类代码", "a minor name without a minor code")
	}

	national := p.cell(rec, ColNational)
	if national != "" {
		want := 5
		if minorCode == "" {
			want = 2
		}
		known := true
		if p.opts.Reference != nil && kind.Valid() {
			_, known = p.opts.Reference.Lookup(SchemeGB47678, kind, national)
		}
		if len(national) != want || !allDigits(national) || !known {
			rp.add(h(ColNational), "国标代码不是 GB/T 47678.5-2026 中该类别的"+map[int]string{2: "大类", 5: "小类"}[want]+"代码："+national,
				"the national code is not a GB/T 47678.5-2026 "+map[int]string{2: "major", 5: "minor"}[want]+" code of this kind: "+national)
		}
	}
	active := true
	switch st := p.cell(rec, ColStatus); st {
	case "", "启用", "有效", "active":
	case "停用", "无效", "inactive":
		active = false
	default:
		rp.add(h(ColStatus), "状态只能是 启用 或 停用："+st, "the status must be 启用 or 停用: "+st)
	}

	cond, hasCond := p.condition(rec, rp, kind, minorCode)
	if hasCond && minorCode == "" {
		rp.add(h(ColCondCode), "立案条件必须属于某个小类（小类代码为空）", "a filing condition belongs to a minor class (the minor code is empty)")
	}

	if len(rp.list) == 0 {
		p.merge(rp, kind, majorCode, majorName, minorCode, minorName, level, national, active, cond, hasCond)
	}
	if len(rp.list) > 0 {
		p.problems = append(p.problems, rp.list...)
	}
}

// condition reads the filing-condition cells of a row.
func (p *parser) condition(rec []string, rp *rowProblems, kind Kind, classCode string) (FilingCondition, bool) {
	h := p.headerName
	code := p.cell(rec, ColCondCode)
	text := p.cell(rec, ColCondText)
	closing := p.cell(rec, ColClosing)
	urgency := p.cell(rec, ColUrgency)
	cells := map[string]string{ColLimitA: p.cell(rec, ColLimitA), ColLimitB: p.cell(rec, ColLimitB), ColLimitC: p.cell(rec, ColLimitC)}
	if code == "" {
		if text != "" || closing != "" || urgency != "" || cells[ColLimitA] != "" || cells[ColLimitB] != "" || cells[ColLimitC] != "" {
			rp.add(h(ColCondCode), "填写了立案条件、时限或结案条件，却没有立案条件编码", "filing-condition cells are filled but the condition code is empty")
		}
		return FilingCondition{}, false
	}
	c := FilingCondition{Kind: kind, ClassCode: classCode, Code: code, FilingText: text, ClosingText: closing, Urgency: Normal}
	if !ValidConditionCode(code) {
		rp.add(h(ColCondCode), "立案条件编码只能由 1–32 位字母、数字、点、横线或下划线组成："+code, "the condition code is 1–32 letters, digits, dots, dashes or underscores: "+code)
	}
	if text == "" {
		rp.add(h(ColCondText), "立案条件不能为空", "the filing condition must not be empty")
	}
	switch urgency {
	case "", "一般", "普通", "否", "normal":
	case "紧急", "是", "urgent":
		c.Urgency = Urgent
	default:
		rp.add(h(ColUrgency), "紧急程度只能是 一般 或 紧急："+urgency, "the urgency must be 一般 or 紧急: "+urgency)
	}
	parsed := map[string]TimeLimit{}
	for _, col := range []string{ColLimitA, ColLimitB, ColLimitC} {
		if cells[col] == "" {
			continue
		}
		l, err := ParseLimit(cells[col])
		if err != nil {
			var v Violation
			if errors.As(err, &v) {
				rp.add(h(col), v.ZH, v.EN)
			}
			continue
		}
		if vs := ValidateTimeLimits([]TimeLimit{l}); len(vs) > 0 {
			for _, v := range vs {
				rp.add(h(col), v.ZH, v.EN)
			}
			continue
		}
		parsed[col] = l
	}
	if cells[ColLimitA] == "" && cells[ColLimitB] == "" && cells[ColLimitC] == "" {
		rp.add(h(ColLimitA), "至少需要一个处置时限（A、B、C 类区域）", "at least one time limit (area class A, B or C) is required")
	}
	a, okA := parsed[ColLimitA]
	b, okB := parsed[ColLimitB]
	cc, okC := parsed[ColLimitC]
	if okA && okB && okC && sameLimits([]TimeLimit{a}, []TimeLimit{b}) && sameLimits([]TimeLimit{a}, []TimeLimit{cc}) {
		// The same limit for every area class is one limit for every area:
		// export writes it back into the three columns.
		c.TimeLimits = []TimeLimit{a}
		return c, true
	}
	for _, x := range []struct {
		col, area string
	}{{ColLimitA, AreaA}, {ColLimitB, AreaB}, {ColLimitC, AreaC}} {
		if l, ok := parsed[x.col]; ok {
			l.AreaClass = x.area
			c.TimeLimits = append(c.TimeLimits, l)
		}
	}
	return c, true
}

// merge adds a good row's classes and condition, or records why it
// contradicts an earlier row.
func (p *parser) merge(rp *rowProblems, kind Kind, majorCode, majorName, minorCode, minorName string, level Level, national string, active bool, cond FilingCondition, hasCond bool) {
	h := p.headerName
	mk := classKey{kind, majorCode}
	if i, ok := p.classAt[mk]; ok && p.classes[i].NameZH != majorName {
		rp.add(h(ColMajorName), fmt.Sprintf("大类 %s 在第 %d 行名为“%s”，此处为“%s”", majorCode, p.classLine[mk], p.classes[i].NameZH, majorName),
			fmt.Sprintf("major %s is named %q on line %d but %q here", majorCode, p.classes[i].NameZH, p.classLine[mk], majorName))
	}
	var mn classKey
	if minorCode != "" {
		mn = classKey{kind, minorCode}
		if i, ok := p.classAt[mn]; ok {
			prev := p.classes[i]
			switch {
			case prev.NameZH != minorName:
				rp.add(h(ColMinorName), fmt.Sprintf("小类 %s 在第 %d 行名为“%s”，此处为“%s”", minorCode, p.classLine[mn], prev.NameZH, minorName),
					fmt.Sprintf("minor %s is named %q on line %d but %q here", minorCode, prev.NameZH, p.classLine[mn], minorName))
			case prev.Active != active:
				rp.add(h(ColStatus), fmt.Sprintf("小类 %s 的状态与第 %d 行不同", minorCode, p.classLine[mn]),
					fmt.Sprintf("minor %s has another status on line %d", minorCode, p.classLine[mn]))
			case prev.NationalCode != national:
				rp.add(h(ColNational), fmt.Sprintf("小类 %s 的国标代码与第 %d 行不同", minorCode, p.classLine[mn]),
					fmt.Sprintf("minor %s has another national code on line %d", minorCode, p.classLine[mn]))
			}
		}
	}
	condKey := string(kind) + "/" + minorCode + "/" + cond.Code
	if hasCond {
		if _, dup := p.condAt[condKey]; dup {
			rp.add(h(ColCondCode), "立案条件编码 "+cond.Code+" 在小类 "+minorCode+" 中重复", "condition code "+cond.Code+" appears twice in class "+minorCode)
		}
	}
	if len(rp.list) > 0 {
		return
	}
	p.lines[mk] = append(p.lines[mk], rp.line)
	if _, ok := p.classAt[mk]; !ok {
		p.classAt[mk] = len(p.classes)
		p.classLine[mk] = rp.line
		p.classes = append(p.classes, Class{Kind: kind, Level: Major, Code: majorCode, NameZH: majorName, Active: true})
	}
	if minorCode == "" {
		// A major-only row carries the major's own status and national code.
		m := &p.classes[p.classAt[mk]]
		m.Active, m.NationalCode = active, national
		return
	}
	if _, ok := p.classAt[mn]; !ok {
		p.classAt[mn] = len(p.classes)
		p.classLine[mn] = rp.line
		p.classes = append(p.classes, Class{Kind: kind, Level: level, Code: minorCode, ParentCode: p.scheme.ParentOf(minorCode),
			NameZH: minorName, NationalCode: national, Active: active})
	}
	p.lines[mn] = append(p.lines[mn], rp.line)
	if hasCond {
		p.condAt[condKey] = len(p.conds)
		p.conds = append(p.conds, cond)
	}
}

// finish checks that every 细类's minor is in the file and assembles the
// table. The rows of a 细类 without its minor are bad, and so is a major
// that only such rows declared.
func (p *parser) finish() (*Table, Problems) {
	dropped := map[classKey]bool{}
	bad := map[int]bool{}
	for _, c := range p.classes {
		if c.Level != Detail {
			continue
		}
		k := classKey{c.Kind, c.Code}
		if i, ok := p.classAt[classKey{c.Kind, c.ParentCode}]; ok && p.classes[i].Level == Minor {
			continue
		}
		dropped[k] = true
		for _, line := range p.lines[k] {
			bad[line] = true
			p.problems = append(p.problems, Problem{Line: line, Column: p.headerName(ColMinorCode),
				ZH: "细类 " + c.Code + " 的上级小类 " + c.ParentCode + " 不在文件中", EN: "the minor " + c.ParentCode + " of 细类 " + c.Code + " is not in the file"})
		}
	}
	for _, c := range p.classes {
		k := classKey{c.Kind, c.Code}
		if c.Level == Major && !slices.ContainsFunc(p.lines[k], func(l int) bool { return !bad[l] }) {
			dropped[k] = true
		}
	}
	t := &Table{Scheme: p.scheme, Rows: p.rows}
	for _, c := range p.classes {
		if !dropped[classKey{c.Kind, c.Code}] {
			t.Classes = append(t.Classes, c)
		}
	}
	for _, c := range p.conds {
		if !dropped[classKey{c.Kind, c.ClassCode}] {
			t.Conditions = append(t.Conditions, c)
		}
	}
	// The kinds are those of the classes kept: a kind whose rows were all
	// bad is carried over by the import, not emptied.
	for _, k := range Kinds() {
		if slices.ContainsFunc(t.Classes, func(c Class) bool { return c.Kind == k }) {
			t.Kinds = append(t.Kinds, k)
		}
	}
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
	return t, p.problems
}

// exportRows lays classes and conditions out as table rows: per kind and
// major, a major-only row when the major has no minors or is inactive,
// then one row per filing condition of each minor and 细类 (one row for a
// class without conditions), in code order.
func exportRows(classes []Class, conds []FilingCondition) [][]string {
	byClass := map[classKey][]FilingCondition{}
	for _, c := range conds {
		k := classKey{c.Kind, c.ClassCode}
		byClass[k] = append(byClass[k], c)
	}
	for k := range byClass {
		slices.SortFunc(byClass[k], func(a, b FilingCondition) int { return strings.Compare(a.Code, b.Code) })
	}
	sorted := slices.Clone(classes)
	kindOrder := func(k Kind) int { return slices.Index(Kinds(), k) }
	slices.SortFunc(sorted, func(a, b Class) int {
		if d := kindOrder(a.Kind) - kindOrder(b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.Code, b.Code)
	})
	var rows [][]string
	for i, m := range sorted {
		if m.Level != Major {
			continue
		}
		var children []Class
		for _, c := range sorted[i+1:] {
			if c.Kind != m.Kind || !strings.HasPrefix(c.Code, m.Code) || c.Level == Major {
				break
			}
			children = append(children, c)
		}
		if len(children) == 0 || !m.Active {
			rows = append(rows, tableRow(m, Class{}, nil, m.NationalCode, m.Active))
		}
		for _, c := range children {
			cs := byClass[classKey{c.Kind, c.Code}]
			if len(cs) == 0 {
				rows = append(rows, tableRow(m, c, nil, c.NationalCode, c.Active))
			}
			for j := range cs {
				rows = append(rows, tableRow(m, c, &cs[j], c.NationalCode, c.Active))
			}
		}
	}
	return rows
}

func tableRow(major, minor Class, cond *FilingCondition, national string, active bool) []string {
	row := make([]string, colCount)
	row[0], row[1], row[2], row[3] = major.Code, major.NameZH, minor.Code, minor.NameZH
	if cond != nil {
		row[4], row[5], row[9] = cond.Code, cond.FilingText, cond.ClosingText
		row[10] = "一般"
		if cond.Urgency == Urgent {
			row[10] = "紧急"
		}
		for _, l := range cond.TimeLimits {
			cell := FormatLimit(l)
			switch l.AreaClass {
			case "":
				row[6], row[7], row[8] = cell, cell, cell
			case AreaA:
				row[6] = cell
			case AreaB:
				row[7] = cell
			case AreaC:
				row[8] = cell
			}
		}
	}
	row[12] = "部件"
	if major.Kind == Event {
		row[12] = "事件"
	}
	row[13] = national
	row[14] = "启用"
	if !active {
		row[14] = "停用"
	}
	return row
}

// WriteTable writes classes and their conditions as a classification
// table and returns the file and its number of data rows. CSV is UTF-8
// with a BOM (so Excel opens it as UTF-8) and CRLF line ends.
func WriteTable(format Format, classes []Class, conds []FilingCondition) ([]byte, int, error) {
	rows := exportRows(classes, conds)
	switch format {
	case FormatCSV, "":
		var buf bytes.Buffer
		buf.WriteString("\uFEFF")
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		if err := w.Write(Columns()); err != nil {
			return nil, 0, fmt.Errorf("write taxonomy csv: %w", err)
		}
		if err := w.WriteAll(rows); err != nil {
			return nil, 0, fmt.Errorf("write taxonomy csv: %w", err)
		}
		return buf.Bytes(), len(rows), nil
	case FormatXLSX:
		b, err := writeXLSX(rows)
		return b, len(rows), err
	}
	return nil, 0, fmt.Errorf("write taxonomy: unknown format %q", format)
}

// SheetName is the name of the worksheet export writes.
const SheetName = "分类表"

func writeXLSX(rows [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), SheetName); err != nil {
		return nil, fmt.Errorf("write taxonomy xlsx: %w", err)
	}
	write := func(n int, cells []string) error {
		ref, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		// Every cell is a string, so codes keep their leading zeros.
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c
		}
		return f.SetSheetRow(SheetName, ref, &vals)
	}
	if err := write(1, Columns()); err != nil {
		return nil, fmt.Errorf("write taxonomy xlsx: %w", err)
	}
	for i, r := range rows {
		if err := write(i+2, r); err != nil {
			return nil, fmt.Errorf("write taxonomy xlsx: row %d: %w", i+2, err)
		}
	}
	for col, width := range map[string]float64{"B": 16, "D": 24, "F": 40, "J": 30, "L": 20} {
		if err := f.SetColWidth(SheetName, col, col, width); err != nil {
			return nil, fmt.Errorf("write taxonomy xlsx: %w", err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write taxonomy xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
