package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Opaque credentials carry the tenant code in clear so that their look-up
// runs inside that tenant (viewer.TenantContext, privacy-filtered) rather
// than across all tenants; the code is bound to the secret through the
// stored hash (refresh tokens) or the tenant filter (API keys), so changing
// it only makes the credential unknown.
const (
	refreshPrefix = "cor_"
	apiKeyPrefix  = "cok_"
	secretBytes   = 32
	secretLen     = 43 // base64url, unpadded, of 32 bytes
	keyIDLen      = 12
)

// ErrCredentialMalformed is what the parsers of outside credentials answer
// for anything that is not exactly of our format.
var ErrCredentialMalformed = errors.New("malformed credential")

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is the stored form of a high-entropy secret. A fast hash is
// enough: 256 random bits cannot be guessed, so stretching buys nothing.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// equalHash compares two hex hashes in constant time.
func equalHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func validTenantCode(s string) bool {
	if len(s) < 6 || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func validSecret(s string) bool {
	if len(s) != secretLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == secretBytes
}

// newRefreshToken returns a refresh token of tenantCode:
// cor_<tenant code>_<32 random bytes, base64url>.
func newRefreshToken(tenantCode string) (string, error) {
	s, err := randomToken(secretBytes)
	if err != nil {
		return "", err
	}
	return refreshPrefix + tenantCode + "_" + s, nil
}

// ParseRefreshToken returns the tenant code of a refresh token, or
// ErrCredentialMalformed.
func ParseRefreshToken(tok string) (tenantCode string, err error) {
	rest, ok := strings.CutPrefix(tok, refreshPrefix)
	if !ok {
		return "", ErrCredentialMalformed
	}
	code, secret, ok := strings.Cut(rest, "_")
	if !ok || !validTenantCode(code) || !validSecret(secret) {
		return "", ErrCredentialMalformed
	}
	return code, nil
}

// APIKeyParts are the parts of an API key
// cok_<tenant code>_<key id>_<secret>.
type APIKeyParts struct {
	TenantCode string
	// KeyID is 12 characters of lower-case base32, public.
	KeyID string
	// Secret is 32 random bytes, base64url.
	Secret string
}

// String assembles the key.
func (p APIKeyParts) String() string {
	return apiKeyPrefix + p.TenantCode + "_" + p.KeyID + "_" + p.Secret
}

// IsAPIKey reports whether a credential claims to be an API key (it may
// still be malformed).
func IsAPIKey(credential string) bool { return strings.HasPrefix(credential, apiKeyPrefix) }

// ParseAPIKey splits an API key into its parts, or answers
// ErrCredentialMalformed. The secret may itself contain '_' (base64url), so
// it is the remainder after the third separator.
func ParseAPIKey(key string) (APIKeyParts, error) {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	if !ok {
		return APIKeyParts{}, ErrCredentialMalformed
	}
	parts := strings.SplitN(rest, "_", 3)
	if len(parts) != 3 || !validTenantCode(parts[0]) || !validKeyID(parts[1]) || !validSecret(parts[2]) {
		return APIKeyParts{}, ErrCredentialMalformed
	}
	return APIKeyParts{TenantCode: parts[0], KeyID: parts[1], Secret: parts[2]}, nil
}

func validKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// newAPIKey returns a fresh key of tenantCode.
func newAPIKey(tenantCode string) (APIKeyParts, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return APIKeyParts{}, fmt.Errorf("new api key: %w", err)
	}
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:keyIDLen]
	secret, err := randomToken(secretBytes)
	if err != nil {
		return APIKeyParts{}, err
	}
	return APIKeyParts{TenantCode: tenantCode, KeyID: id, Secret: secret}, nil
}
