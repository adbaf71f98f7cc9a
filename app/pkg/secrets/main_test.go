package secrets_test

import (
	"testing"

	"github.com/cityops/cityops/app/pkg/testvault"
)

// TestMain stops the package's Vault server (started on first use) at exit.
func TestMain(m *testing.M) { testvault.Main(m) }
