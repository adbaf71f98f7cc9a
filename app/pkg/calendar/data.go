package calendar

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// data holds the holiday lists. It is read-only; every constructor parses
// it into a fresh Layer.
//
//go:embed data
var data embed.FS

// National returns the national layer: the days off and 调休 make-up
// working days of every year in data/national.csv (2025 and 2026), and the
// Monday-to-Friday working week.
//
// National panics if the embedded file is malformed, which the package's
// tests rule out, as regexp.MustCompile does for a literal.
func National() Layer {
	l, err := readLayer("national", "data/national.csv")
	if err != nil {
		panic(err)
	}
	l.WorkWeek = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	return l
}

// ErrNoProvinceData is returned by Province for a region known to have
// regional holidays whose dates are not shipped yet.
var ErrNoProvinceData = errors.New("calendar: no holiday data for this province")

// Province returns the province layer for a GB/T 2260 code. Any code of
// the province works (450000, 450100 南宁市, 450126 宾阳县), so a tenant
// passes its own code.
//
// Most provinces have no regional holidays and get an empty layer. The
// autonomous regions with statutory festivals of their own (西藏 540000,
// 宁夏 640000, 新疆 650000) fail with ErrNoProvinceData until their dates
// are added as data/province/<code>.csv, because an empty layer would
// silently count those festivals as working days.
func Province(code string) (Layer, error) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" || code[:2] == "00" {
		return Layer{}, fmt.Errorf("calendar: province code %q: want a 6-digit GB/T 2260 code", code)
	}
	prov := code[:2] + "0000"
	name := "province " + prov
	l, err := readLayer(name, "data/province/"+prov+".csv")
	switch {
	case err == nil:
		return l, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Layer{}, err
	case prov == "540000" || prov == "640000" || prov == "650000":
		return Layer{}, fmt.Errorf("%w: %s (add data/province/%s.csv from the regional notice)", ErrNoProvinceData, prov, prov)
	}
	return Layer{Name: name}, nil
}

func readLayer(name, path string) (Layer, error) {
	f, err := data.Open(path)
	if err != nil {
		return Layer{}, err
	}
	defer f.Close()
	return ParseDaysCSV(name, f)
}

// ParseDaysCSV reads a day list in the format of data/national.csv: a
// header "date,kind,name", then one row per date; lines starting with #
// and blank lines are ignored. Operators use it to load a newly published
// notice before a release ships it. The layer's Years are the years that
// have rows. Every bad row is reported, with its line.
func ParseDaysCSV(name string, r io.Reader) (Layer, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 3
	header, err := cr.Read()
	if err != nil {
		return Layer{}, fmt.Errorf("calendar: %s: header: %w", name, err)
	}
	if !slices.Equal(header, []string{"date", "kind", "name"}) {
		return Layer{}, fmt.Errorf("calendar: %s: header %q: want date,kind,name", name, strings.Join(header, ","))
	}
	// Years is non-nil even without rows: a day list is always tied to years.
	l := Layer{Name: name, Years: []int{}}
	var errs []error
	seen := map[Date]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A *csv.ParseError carries the line; the reader cannot go on
			// reliably after a quoting error, so stop here.
			errs = append(errs, fmt.Errorf("calendar: %s: %w", name, err))
			break
		}
		line, _ := cr.FieldPos(0)
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("calendar: %s: line %d: "+format, append([]any{name, line}, args...)...))
		}
		d, err := ParseDate(rec[0])
		if err != nil {
			bad("%v", err)
			continue
		}
		if prev, dup := seen[d]; dup {
			bad("%s already listed on line %d", d, prev)
			continue
		}
		seen[d] = line
		k := Kind(rec[1])
		if !k.valid() {
			bad("kind %q: want off or workday", rec[1])
			continue
		}
		if strings.TrimSpace(rec[2]) == "" {
			bad("%s has no name", d)
			continue
		}
		l.Days = append(l.Days, DayRule{Date: d, Kind: k, Name: rec[2]})
		if !slices.Contains(l.Years, d.Year) {
			l.Years = append(l.Years, d.Year)
		}
	}
	if len(errs) > 0 {
		return Layer{}, errors.Join(errs...)
	}
	slices.Sort(l.Years)
	return l, nil
}
