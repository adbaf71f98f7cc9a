package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
// The zero value of a field means its default.
type Argon2Params struct {
	// Memory in KiB; default 19456 (19 MiB), OWASP's recommended minimum
	// for argon2id together with Time 2 and Threads 1.
	Memory uint32
	// Time is the number of passes; default 2.
	Time uint32
	// Threads is the parallelism; default 1, so one login uses one core
	// and the semaphore (NumCPU×2) bounds the cores a flood can take.
	Threads uint8
	// SaltLen and KeyLen in bytes; defaults 16 and 32.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2Params returns the cost used when the configuration names
// none: m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte key.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func (p *Argon2Params) setDefaults() {
	defaultArgon2 := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = defaultArgon2.Memory
	}
	if p.Time == 0 {
		p.Time = defaultArgon2.Time
	}
	if p.Threads == 0 {
		p.Threads = defaultArgon2.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = defaultArgon2.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = defaultArgon2.KeyLen
	}
}

// Bounds on parameters read back from a stored hash: a corrupted or
// planted row must not make one login allocate gigabytes or spin for
// minutes.
const (
	maxArgonMemory  = 1 << 20 // 1 GiB in KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
	minArgonSalt    = 8
	maxArgonSalt    = 64
	minArgonKey     = 16
	maxArgonKey     = 64
)

// Validate reports parameters that are too weak or too large.
func (p Argon2Params) Validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		return fmt.Errorf("argon2 memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("argon2 time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > maxArgonThreads:
		return fmt.Errorf("argon2 threads %d out of range", p.Threads)
	case p.SaltLen < minArgonSalt || p.SaltLen > maxArgonSalt:
		return fmt.Errorf("argon2 salt length %d out of range", p.SaltLen)
	case p.KeyLen < minArgonKey || p.KeyLen > maxArgonKey:
		return fmt.Errorf("argon2 key length %d out of range", p.KeyLen)
	}
	return nil
}

// weakerThan reports whether hashes made with p are cheaper to attack than
// with cur, so that a successful login re-hashes the password.
func (p Argon2Params) weakerThan(cur Argon2Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || p.KeyLen < cur.KeyLen || p.SaltLen < cur.SaltLen
}

// Hasher hashes and verifies passwords with argon2id, at most a fixed number
// at a time: each hash holds Memory KiB for its duration, so a login flood
// queues instead of exhausting memory.
type Hasher struct {
	params Argon2Params
	sem    chan struct{}
	// dummy is a hash of a random password, verified when a login names no
	// user so that an unknown login costs as much as a wrong password.
	dummy string
}

// NewHasher returns a hasher with params (defaults filled) running at most
// concurrency hashes at once (0: NumCPU×2).
func NewHasher(params Argon2Params, concurrency int) (*Hasher, error) {
	params.setDefaults()
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU() * 2
	}
	h := &Hasher{params: params, sem: make(chan struct{}, concurrency)}
	var secret [24]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	dummy, err := h.Hash(context.Background(), base64.RawStdEncoding.EncodeToString(secret[:]))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// Params returns the cost of new hashes.
func (h *Hasher) Params() Argon2Params { return h.params }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password hash: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash> (unpadded
// standard base64, as the reference implementation writes it).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, and whether
// phc was made with weaker parameters than the current ones (re-hash it).
// An empty phc verifies against the dummy hash and never matches, taking
// the same time as a real comparison.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (ok, rehash bool, err error) {
	if phc == "" {
		phc = h.dummy
		defer func() { ok, rehash = false, false }()
	}
	p, salt, want, err := decodePHC(phc)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	return subtle.ConstantTimeCompare(got, want) == 1, p.weakerThan(h.params), nil
}

var errPHC = errors.New("malformed argon2id hash")

func encodePHC(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decodePHC parses an argon2id PHC string strictly and bounds its
// parameters.
func decodePHC(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errPHC
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, errPHC
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, errPHC
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, errPHC
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, errPHC
		}
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errPHC
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, errPHC
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.Validate(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", errPHC, err)
	}
	return p, salt, key, nil
}

// Password policy.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// commonPasswords are passwords of policy length that lead every leaked
// list (including Chinese ones); compared case-insensitively. Shorter
// common passwords fail the length rule anyway.
var commonPasswords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, p := range []string{
		"1234567890", "12345678910", "123456789a", "a123456789", "a1234567890", "abc1234567",
		"abc123456789", "aa123456789", "qwertyuiop", "1qaz2wsx3edc", "1q2w3e4r5t", "1q2w3e4r5t6y",
		"qwerty123456", "qwe123456789", "zxcvbnm123", "asdfghjkl1", "password12", "password123",
		"password1!", "password@123", "p@ssw0rd123", "p@ssw0rd!", "passw0rd123", "admin12345",
		"admin123456", "admin@123456", "admin@12345", "administrator", "administrator1",
		"iloveyou12", "iloveyou123", "woaini1314", "woaini520", "5201314520", "1314520520",
		"welcome123", "welcome@123", "changeme123", "letmein123", "cityops123", "cityops@123",
		"cityops2026", "qwer1234!@#$", "1qaz@wsx3edc", "1qaz!qaz", "1qaz@wsx#edc", "qazwsx123456",
		"zaq12wsx", "abcd@1234", "abcd1234!", "aa123456!", "test@12345", "test123456",
	} {
		m[strings.ToLower(p)] = struct{}{}
	}
	return m
}()

// CheckPassword applies the password policy: at least 10 characters (at
// most 128), at least 3 of the classes lower case, upper case, digit and
// symbol, not containing the login, not a very common password. The error
// is PASSWORD_TOO_WEAK with every broken rule in a bilingual detail.
func CheckPassword(password, login string) error {
	var zh, en []string
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		zh = append(zh, fmt.Sprintf("至少 %d 个字符", MinPasswordLen))
		en = append(en, fmt.Sprintf("use at least %d characters", MinPasswordLen))
	}
	if n > MaxPasswordLen {
		zh = append(zh, fmt.Sprintf("最多 %d 个字符", MaxPasswordLen))
		en = append(en, fmt.Sprintf("use at most %d characters", MaxPasswordLen))
	}
	var lower, upper, digit, symbol int
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		case unicode.IsControl(r):
			// Control characters cannot be typed reliably; they earn no class.
		default:
			symbol = 1
		}
	}
	if lower+upper+digit+symbol < 3 {
		zh = append(zh, "需包含小写字母、大写字母、数字、符号中的至少三类")
		en = append(en, "mix at least 3 of lower case, upper case, digits and symbols")
	}
	lp := strings.ToLower(password)
	if login != "" && strings.Contains(lp, strings.ToLower(login)) {
		zh = append(zh, "不能包含登录名")
		en = append(en, "do not include the login")
	}
	if _, ok := commonPasswords[lp]; ok {
		zh = append(zh, "不能使用常见密码")
		en = append(en, "do not use a common password")
	}
	if len(en) == 0 {
		return nil
	}
	dzh, den := strings.Join(zh, "；"), strings.Join(en, "; ")
	return errorsv1.ErrorPasswordTooWeak("password too weak: %s", den).WithMetadata(map[string]string{
		"detail": den, "detail_zh": dzh, "detail_en": den,
	})
}

// Alphabets of generated passwords, without look-alikes (0/O, 1/l/I) so a
// temporary password can be read out over the phone.
const (
	genLower  = "abcdefghijkmnpqrstuvwxyz"
	genUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genDigit  = "23456789"
	genSymbol = "!#%+-=?@"
	genLen    = 16
)

// GeneratePassword returns a random 16-character password with every
// class that the policy accepts for login.
func GeneratePassword(login string) (string, error) {
	all := genLower + genUpper + genDigit + genSymbol
	for {
		b := make([]byte, genLen)
		for i := range b {
			set := all
			// The first four positions guarantee one of each class; a
			// shuffle would add nothing a random remainder does not.
			switch i {
			case 0:
				set = genLower
			case 1:
				set = genUpper
			case 2:
				set = genDigit
			case 3:
				set = genSymbol
			}
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
			if err != nil {
				return "", fmt.Errorf("generate password: %w", err)
			}
			b[i] = set[n.Int64()]
		}
		// Only a login that happens to appear inside it could fail; retry.
		if CheckPassword(string(b), login) == nil {
			return string(b), nil
		}
	}
}
