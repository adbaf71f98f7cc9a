package evidence

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPair(t *testing.T) {
	t.Parallel()
	at := func(key, sha string, lat float64, taken string) *Attachment {
		a := &Attachment{Key: key, SHA256: sha}
		if lat != 0 {
			a.ExifLon, a.ExifLat = ptr(caseLon), ptr(lat)
		}
		if taken != "" {
			a.TakenAt, _ = time.Parse(time.DateTime, taken)
		}
		return a
	}
	before := []*Attachment{
		at("b1", "h1", caseLat, "2026-11-30 09:00:00"),
		at("b2", "h2", metresNorth(caseLat, 100), "2026-11-30 09:05:00"),
	}
	tests := []struct {
		name          string
		before, after []*Attachment
		rule          PairRule
		want          PairReport
		ok, near      bool
	}{
		{"after near the second before photo", before,
			[]*Attachment{at("a1", "h3", metresNorth(caseLat, 290), "2026-11-30 15:00:00")},
			PairRule{RequireAfter: true}, PairReport{Compared: 1}, true, true},
		{"after taken elsewhere", before,
			[]*Attachment{at("a1", "h3", metresNorth(caseLat, 350), "2026-11-30 15:00:00")},
			PairRule{RequireAfter: true}, PairReport{Compared: 1, Far: []string{"a1"}}, false, false},
		{"tighter rule", before,
			[]*Attachment{at("a1", "h3", metresNorth(caseLat, 150), "")},
			PairRule{NearMeters: 30}, PairReport{Compared: 1, Far: []string{"a1"}}, false, false},
		{"no after photo, required", before, nil, PairRule{RequireAfter: true}, PairReport{MissingAfter: true}, false, false},
		{"no after photo, not required", before, []*Attachment{nil}, PairRule{}, PairReport{}, true, false},
		{"before photo reused as after", before,
			[]*Attachment{at("a1", "h1", caseLat, "2026-11-30 09:00:00")},
			PairRule{RequireAfter: true}, PairReport{Compared: 1, Reused: []string{"a1"}}, false, true},
		{"after predates every before", before,
			[]*Attachment{at("a1", "h3", caseLat, "2026-11-29 18:00:00")},
			PairRule{}, PairReport{Compared: 1, Earlier: []string{"a1"}}, false, true},
		{"no GPS anywhere: nothing compared, nothing wrong", []*Attachment{at("b1", "h1", 0, "")},
			[]*Attachment{at("a1", "h2", 0, "")},
			PairRule{RequireAfter: true}, PairReport{}, true, false},
		{"after has GPS, before has none", []*Attachment{at("b1", "h1", 0, "")},
			[]*Attachment{at("a1", "h2", caseLat, "")},
			PairRule{}, PairReport{}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Pair(tt.before, tt.after, tt.rule)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Pair (-want +got):\n%s", diff)
			}
			if got.OK() != tt.ok || got.Near() != tt.near {
				t.Errorf("OK() = %v, Near() = %v; want %v, %v", got.OK(), got.Near(), tt.ok, tt.near)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		reason string
	}{
		{tooLarge(10 << 20), ReasonTooLarge},
		{fmt.Errorf("upload: %w", tooSmall(50, 50, 200, 200)), ReasonDimensions},
		{tooBig(9000, 9000, 8192, 8192), ReasonDimensions},
		{typeNotAllowed(KindBefore, "text/html", []string{TypeJPEG}), ReasonTypeNotAllowed},
		{notFound(), ReasonNotFound},
		{corrupt("坏", "bad"), ReasonCorrupt},
		{invalid("kind", "无效", "invalid"), ReasonInvalidArgument},
		{ErrNotFound, ReasonNotFound},
		{errors.New("connection reset"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		reason, zh, en := Describe(tt.err)
		if reason != tt.reason || (reason != "") != (zh != "" && en != "") {
			t.Errorf("Describe(%v) = %q, %q, %q; want reason %q and both messages", tt.err, reason, zh, en, tt.reason)
		}
	}
}
