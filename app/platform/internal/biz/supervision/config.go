package supervision

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-kratos/kratos/v2/log"
)

// Config tunes supervision. The zero value is usable: every field documents
// its default, which setDefaults fills.
type Config struct {
	// RemindBefore is how long before the disposal deadline the department
	// gets its 催办. Default 2 h (natural time: the tenants' "2 working
	// hours" is approximated until the working calendar drives it).
	RemindBefore time.Duration
	// SuperviseAfter is how long a case may stay overdue before a 督办 is
	// raised automatically. Default 24 h (≈ one working day).
	SuperviseAfter time.Duration
	// SuperviseFor is the deadline an automatic 督办 gives the department,
	// counted from when it is raised. Default 24 h.
	SuperviseFor time.Duration
	// PerTenant overrides the three durations above for a tenant, by
	// tenant code; a zero field keeps the platform's value.
	PerTenant map[string]Overrides

	// Interval is how often the scheduler ticks. Default 1 min.
	Interval time.Duration
	// LeaseTTL is how long a tick's leadership lasts without renewal; a
	// standby replica takes over at most this long after the leader died.
	// Default 3 × Interval; it must exceed Interval.
	LeaseTTL time.Duration
	// LeaseName names the scheduler's lease. Default "supervision-scheduler".
	LeaseName string
	// Holder identifies this replica in the lease. Default host name, pid
	// and a random suffix.
	Holder string
	// PageSize is how many cases a tick reads per query. Default 500.
	PageSize int

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives the scheduler's reports; default log.DefaultLogger.
	Logger log.Logger
}

// Overrides are a tenant's own thresholds; zero keeps the platform's.
type Overrides struct {
	RemindBefore   time.Duration
	SuperviseAfter time.Duration
	SuperviseFor   time.Duration
}

func (c *Config) setDefaults() {
	if c.RemindBefore == 0 {
		c.RemindBefore = 2 * time.Hour
	}
	if c.SuperviseAfter == 0 {
		c.SuperviseAfter = 24 * time.Hour
	}
	if c.SuperviseFor == 0 {
		c.SuperviseFor = 24 * time.Hour
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 3 * c.Interval
	}
	if c.LeaseName == "" {
		c.LeaseName = "supervision-scheduler"
	}
	if c.Holder == "" {
		c.Holder = defaultHolder()
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = log.DefaultLogger
	}
}

// Validate reports a configuration that cannot work (call it after the
// constructors filled the defaults, or on a Config with every field set).
func (c *Config) Validate() error {
	var errs []error
	check := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative (%s)", name, d))
		}
	}
	check("remind_before", c.RemindBefore)
	check("supervise_after", c.SuperviseAfter)
	check("supervise_for", c.SuperviseFor)
	for code, o := range c.PerTenant {
		check(code+".remind_before", o.RemindBefore)
		check(code+".supervise_after", o.SuperviseAfter)
		check(code+".supervise_for", o.SuperviseFor)
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval must be positive (%s)", c.Interval))
	}
	if c.LeaseTTL <= c.Interval {
		errs = append(errs, fmt.Errorf("lease_ttl (%s) must exceed interval (%s), or the lease lapses between ticks", c.LeaseTTL, c.Interval))
	}
	if c.PageSize < 1 || c.PageSize > 10000 {
		errs = append(errs, fmt.Errorf("page_size must be 1–10000 (%d)", c.PageSize))
	}
	if len(c.Holder) > 128 {
		errs = append(errs, fmt.Errorf("holder is longer than 128 bytes"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("supervision config: %w", err)
	}
	return nil
}

// thresholds are the durations in force for one tenant.
type thresholds struct {
	remindBefore, superviseAfter, superviseFor time.Duration
}

func (c *Config) thresholds(tenantCode string) thresholds {
	th := thresholds{c.RemindBefore, c.SuperviseAfter, c.SuperviseFor}
	if o, ok := c.PerTenant[tenantCode]; ok {
		if o.RemindBefore > 0 {
			th.remindBefore = o.RemindBefore
		}
		if o.SuperviseAfter > 0 {
			th.superviseAfter = o.SuperviseAfter
		}
		if o.SuperviseFor > 0 {
			th.superviseFor = o.SuperviseFor
		}
	}
	return th
}

func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	if len(host) > 80 {
		host = host[:80]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
