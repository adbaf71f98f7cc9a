package open311

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var sevenDigits = regexp.MustCompile(`\d{7,}`)

// FuzzScrub checks that the public text never keeps a run of seven digits
// (a phone number) or an email, whatever a citizen wrote.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{"请联系 13800138000", "a@b.cn 在 3 号楼", "138-0013-8000", "2026年3月1日", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := scrub(s)
		if sevenDigits.MatchString(out) {
			t.Fatalf("scrub(%q) = %q keeps a phone-like number", s, out)
		}
		if strings.Contains(out, "@") && emails.MatchString(out) {
			t.Fatalf("scrub(%q) = %q keeps an email", s, out)
		}
	})
}

// FuzzParseISO checks that every accepted datetime is UTC and round-trips.
func FuzzParseISO(f *testing.F) {
	for _, s := range []string{"2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z", "2026-03-01", "yesterday", "2026-03-01T00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseISO(s)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("parseISO(%q) is not UTC", s)
		}
	})
}

func TestSplitMediaAndNames(t *testing.T) {
	d, m := splitMedia("井盖缺失" + mediaMark + "https://x.cn/a.jpg")
	if d != "井盖缺失" || m != "https://x.cn/a.jpg" {
		t.Fatalf("splitMedia: %q %q", d, m)
	}
	for _, c := range []struct{ first, last, want string }{{"三", "张", "张三"}, {"Ann", "Lee", "Ann Lee"}, {"", "张", "张"}} {
		if got := fullName(c.first, c.last); got != c.want {
			t.Errorf("fullName(%q, %q) = %q, want %q", c.first, c.last, got, c.want)
		}
	}
}
