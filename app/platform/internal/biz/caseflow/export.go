package caseflow

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Export formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// MaxExportRows bounds one export; a larger result is cut and flagged.
const MaxExportRows = 50_000

// Export is a written search result.
type Export struct {
	FileName, ContentType string
	Content               []byte
	Rows                  int
	Truncated             bool
}

// stateNames are the states as a command center writes them.
var stateNames = map[State]string{
	StateDraft: "草稿", StateReported: "待受理", StateVerifyPending: "待核实", StateRejected: "不予受理",
	StateMerged: "已合并", StateFiled: "待派遣", StateSelfHandled: "自处理待审核", StateDispatched: "已派遣",
	StateInDisposal: "处置中", StateReturnPending: "回退待批", StateDelayPending: "延期待批",
	StateHangPending: "挂账待批", StateHung: "挂账", StateFeedback: "已反馈", StateCheckPending: "待核查",
	StateClosePending: "待结案", StateClosed: "已结案", StateVoidPending: "作废待批", StateVoided: "已作废",
}

var sourceNames = map[Source]string{
	SourceSupervisor: "监督员采集", SourceHotline12319: "12319热线", SourceHotline12345: "12345热线",
	SourceCitizen: "公众上报", SourceVideoAI: "视频识别", SourceIoT: "物联感知", SourceSuperior: "上级交办",
	SourceMedia: "媒体曝光", SourceLeader: "领导批示",
}

// StateName is the Chinese name of a state.
func StateName(s State) string { return stateNames[s] }

// ExportColumns are the header of an export.
func ExportColumns() []string {
	return []string{"案件编号", "案件来源", "案件类型", "小类代码", "立案条件", "问题描述", "地址", "单元网格",
		"社区", "街道", "区县", "区域类别", "紧急程度", "状态", "主办单位", "协办单位", "上报时间", "立案时间",
		"派遣时间", "处置时限", "反馈时间", "结案时间", "是否超期", "是否督办", "返工次数", "回退次数", "延期次数", "催办次数"}
}

// ExportCases writes the cases f matches (as the viewer may see them: no
// reporter contact at all) as CSV or XLSX.
func (u *Usecase) ExportCases(ctx context.Context, f Filter, format string, maxRows int) (*Export, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = FormatCSV
	}
	if format != FormatCSV && format != FormatXLSX {
		return nil, invalid("format", "导出格式须为 csv 或 xlsx", "the format must be csv or xlsx")
	}
	if maxRows <= 0 || maxRows > MaxExportRows {
		maxRows = MaxExportRows
	}
	if err := u.scopeFilter(ctx, v, &f); err != nil {
		return nil, err
	}
	var rows [][]string
	q := Query{Filter: f, Order: OrderNewest}
	truncated := false
	for !truncated {
		page, err := u.repo.Search(ctx, q, MaxPageSize)
		if err != nil {
			return nil, fmt.Errorf("export cases: %w", err)
		}
		for _, c := range page {
			if len(rows) == maxRows {
				truncated = true
				break
			}
			rows = append(rows, exportRow(c, u.cfg.Location))
		}
		if len(page) < MaxPageSize {
			break
		}
		last := page[len(page)-1]
		q.After = &Cursor{Key: last.ReportedAt, ID: last.ID}
	}
	out := &Export{Rows: len(rows), Truncated: truncated}
	stamp := u.now().In(u.cfg.Location).Format("20060102-150405")
	switch format {
	case FormatCSV:
		var buf bytes.Buffer
		buf.WriteString("\uFEFF") // so Excel opens UTF-8 as such
		w := csv.NewWriter(&buf)
		_ = w.Write(ExportColumns())
		_ = w.WriteAll(rows)
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("export cases csv: %w", err)
		}
		out.Content, out.ContentType = buf.Bytes(), "text/csv; charset=utf-8"
		out.FileName = "cases-" + v.TenantCode + "-" + stamp + ".csv"
	case FormatXLSX:
		b, err := writeCasesXLSX(rows)
		if err != nil {
			return nil, err
		}
		out.Content, out.ContentType = b, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		out.FileName = "cases-" + v.TenantCode + "-" + stamp + ".xlsx"
	}
	return out, nil
}

func exportRow(c *Case, loc *time.Location) []string {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04:05")
	}
	yes := func(b bool) string {
		if b {
			return "是"
		}
		return "否"
	}
	kind := "事件"
	if c.Kind == KindComponent {
		kind = "部件"
	}
	urgency := "一般"
	if c.Urgency == UrgencyUrgent {
		urgency = "紧急"
	}
	itoa := strconv.Itoa
	return []string{c.Number, sourceNames[c.Source], kind, c.ClassCode, c.FilingConditionCode, c.Description,
		c.Address, c.GridCode, c.CommunityCode, c.StreetCode, c.DistrictCode, c.AreaClass, urgency,
		stateNames[c.State], c.PrimaryDepartmentCode, strings.Join(c.CoDepartmentCodes, ","),
		ts(c.ReportedAt), ts(c.FiledAt), ts(c.DispatchedAt), ts(c.DisposeDeadline), ts(c.FeedbackAt), ts(c.ClosedAt),
		yes(c.Overdue), yes(c.Supervised), itoa(c.ReworkCount), itoa(c.ReturnCount), itoa(c.ExtensionCount), itoa(c.ReminderCount)}
}

// casesSheet is the worksheet of an XLSX export.
const casesSheet = "案件"

func writeCasesXLSX(rows [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), casesSheet); err != nil {
		return nil, fmt.Errorf("export cases xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(casesSheet)
	if err != nil {
		return nil, fmt.Errorf("export cases xlsx: %w", err)
	}
	write := func(n int, cells []string) error {
		ref, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		// Strings throughout, so numbers keep their leading zeros.
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c
		}
		return sw.SetRow(ref, vals)
	}
	if err := write(1, ExportColumns()); err != nil {
		return nil, fmt.Errorf("export cases xlsx: %w", err)
	}
	for i, r := range rows {
		if err := write(i+2, r); err != nil {
			return nil, fmt.Errorf("export cases xlsx: row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("export cases xlsx: %w", err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("export cases xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
