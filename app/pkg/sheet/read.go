package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// DecodeText returns the text of a CSV file: UTF-8 (a BOM is dropped), or
// GBK/GB18030 as Excel in China saves "CSV (逗号分隔)".
func DecodeText(data []byte) (string, *Problem) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return "", &Problem{ZH: "不支持 UTF-16 文本（Excel 的“Unicode 文本”），请另存为“CSV UTF-8”或 xlsx",
			EN: "UTF-16 text (Excel's \"Unicode Text\") is not supported; save as \"CSV UTF-8\" or xlsx"}
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", &Problem{ZH: "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV", EN: "old Excel (.xls) files are not supported; save as .xlsx or CSV"}
	}
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) || !utf8.Valid(out) {
		return "", &Problem{ZH: "无法识别文件编码：既不是 UTF-8 也不是 GBK", EN: "unreadable encoding: neither UTF-8 nor GBK"}
	}
	return string(out), nil
}

// ReadCSV reads the records of a CSV file and the line each starts on,
// stopping after maxRows records (the caller reports a file too long).
func ReadCSV(data []byte, maxRows int) ([][]string, []int, *Problem) {
	text, prob := DecodeText(data)
	if prob != nil {
		return nil, nil, prob
	}
	if strings.ContainsRune(text, 0) {
		return nil, nil, &Problem{ZH: "文件含有二进制内容，不是 CSV 文本", EN: "the file holds binary data; it is not CSV text"}
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	var recs [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, nil, &Problem{Line: line, ZH: "CSV 格式错误（引号不匹配等）", EN: "malformed CSV (unbalanced quotes or similar)"}
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, line)
		if len(recs) > maxRows {
			break
		}
	}
	return recs, lines, nil
}

// XLSXOptions bound what opening a workbook may unpack, so a small zip
// bomb cannot take the server's memory.
func XLSXOptions() excelize.Options {
	return excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 32 << 20}
}

// ReadXLSX reads the first sheet's rows and their row numbers, stopping
// after maxRows rows. raw keeps cell values as stored, so a time or date
// cell arrives as Excel's serial number rather than the locale's rendering.
func ReadXLSX(data []byte, maxRows int, raw bool) (recs [][]string, lines []int, prob *Problem) {
	bad := &Problem{ZH: "无法读取 xlsx 文件（文件损坏或不是 Excel 工作簿）", EN: "cannot read the xlsx file (damaged, or not an Excel workbook)"}
	// excelize is a large parser of outside input; a panic in it must not
	// take the server down with it.
	defer func() {
		if recover() != nil {
			recs, lines, prob = nil, nil, bad
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), XLSXOptions())
	if err != nil {
		return nil, nil, bad
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, bad
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, bad
	}
	defer rows.Close()
	for n := 1; rows.Next(); n++ {
		cols, err := rows.Columns(excelize.Options{RawCellValue: raw})
		if err != nil {
			return nil, nil, bad
		}
		recs = append(recs, cols)
		lines = append(lines, n)
		if len(recs) > maxRows {
			break
		}
	}
	if rows.Error() != nil {
		return nil, nil, bad
	}
	return recs, lines, nil
}
