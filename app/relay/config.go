package relay

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/secrets"
)

// Defaults of Config.
const (
	DefaultBatchSize       = 500
	DefaultLeaseTTL        = 15 * time.Second
	DefaultPollInterval    = 100 * time.Millisecond
	DefaultBackoffMin      = 100 * time.Millisecond
	DefaultBackoffMax      = 30 * time.Second
	DefaultMaxMessageBytes = 1 << 20
	DefaultMaxConnectors   = 256
	DefaultWriteTimeout    = 10 * time.Second
)

// Config configures a Relay. The zero value of every optional field means
// its default, documented on the field.
type Config struct {
	// DB is the database holding the event log and the connectors.
	// Required.
	DB *database.DB
	// Signer signs every event with the tenant's Ed25519 key. Required.
	Signer secrets.Signer
	// KeyName names a tenant's signing key in Signer (the platform's
	// SigningKeyName: "tenant-<code>"). Required.
	KeyName func(tenantCode string) string
	// Secrets resolves the connectors' sasl_secret_ref (a secret with the
	// fields "username" and "password"). Needed only when a connector uses
	// SASL.
	Secrets secrets.Store
	// Holder names this replica in the connectors' leases; it must differ
	// between replicas and should stay the same across restarts of one
	// (a pod name), so a restarted replica takes its leases back at once.
	// Default: host name, process id and a random suffix.
	Holder string
	// Logger. Default log.DefaultLogger.
	Logger log.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// BatchSize is how many events are read, signed and written at a time
	// per connector. Default 500.
	BatchSize int
	// LeaseTTL is how long a claim on a connector lasts without renewal;
	// a crashed replica's connectors are taken over after it. Leases are
	// renewed every LeaseTTL/3 and with every cursor update. Default 15 s.
	LeaseTTL time.Duration
	// PollInterval is how often an idle connector looks for new events.
	// Default 100 ms.
	PollInterval time.Duration
	// BackoffMin and BackoffMax bound the exponential backoff (with
	// jitter) after a failed batch. Defaults 100 ms and 30 s.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// MaxMessageBytes is the largest Kafka record (key, value and headers)
	// the relay sends; a larger event goes to the dead letters with reason
	// too_large. It should not exceed the topics' max.message.bytes.
	// Default 1 MiB.
	MaxMessageBytes int
	// MaxConnectors caps the connectors one replica works at a time, so
	// several replicas share them. Default 256.
	MaxConnectors int
	// SignConcurrency is how many events are signed at once (the signer
	// may be a remote Vault). Default 2×GOMAXPROCS, at least 4.
	SignConcurrency int
	// DefaultBrokers are used by connectors that name no brokers (the
	// embedded broker). Optional.
	DefaultBrokers []string
	// TLSConfig is the base TLS configuration of connectors with tls set
	// (e.g. a private CA); nil means the system roots.
	TLSConfig *tls.Config
	// WriteTimeout bounds one produce request. Default 10 s.
	WriteTimeout time.Duration
	// Registerer registers the relay's metrics; nil registers none.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Holder == "" {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.Holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if c.Logger == nil {
		c.Logger = log.DefaultLogger
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxConnectors <= 0 {
		c.MaxConnectors = DefaultMaxConnectors
	}
	if c.SignConcurrency <= 0 {
		c.SignConcurrency = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
}

// Validate reports what is missing or inconsistent; New calls it after
// filling the defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.DB == nil {
		errs = append(errs, errors.New("no database"))
	}
	if c.Signer == nil {
		errs = append(errs, errors.New("no signer"))
	}
	if c.KeyName == nil {
		errs = append(errs, errors.New("no signing key name function"))
	}
	if len(c.Holder) > 128 {
		errs = append(errs, fmt.Errorf("holder %q is longer than 128 bytes", c.Holder))
	}
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("backoff max %s is below backoff min %s", c.BackoffMax, c.BackoffMin))
	}
	if c.LeaseTTL < 3*c.PollInterval {
		errs = append(errs, fmt.Errorf("lease ttl %s must be at least three poll intervals (%s)", c.LeaseTTL, c.PollInterval))
	}
	if c.MaxMessageBytes < 1024 {
		errs = append(errs, fmt.Errorf("max message bytes %d is below 1024", c.MaxMessageBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("relay config: %w", err)
	}
	return nil
}
