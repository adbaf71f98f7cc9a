# Vault policy "cityops-platform": what the platform (and the relay it embeds
# and the cityops-migrate Job) may do in Vault. Bound to the Kubernetes auth
# role cityops-platform (ServiceAccount cityops-platform in namespace cityops,
# see kubernetes/serviceaccount.yaml):
#
#   vault policy write cityops-platform deploy/vault/platform-policy.hcl
#
# Mounts: KV version 2 at secret/, transit at transit/.
# Tenant signing keys are named cityops-tenant-<GB/T 2260 code>, for example
# cityops-tenant-450100 (南宁市); type ed25519.

# --- KV v2: configuration secrets -------------------------------------------
# secret://kv/cityops/platform/db        -> secret/data/cityops/platform/db
# dedicated tenant databases             -> secret/data/cityops/tenants/<code>/db
path "secret/data/cityops/*" {
  capabilities = ["read"]
}

# The access-token signing key ring: the platform creates its first key on
# first start and `cityctl auth rotate-key` adds keys; replicas re-read it.
path "secret/data/cityops/platform/jwt" {
  capabilities = ["create", "read", "update"]
}

# Listing and version metadata (no secret values).
path "secret/metadata/cityops/*" {
  capabilities = ["read", "list"]
}

# --- Transit: tenant event signing --------------------------------------------
# Create a tenant's key at onboarding (POST transit/keys/<name>, type=ed25519),
# read it (public keys, used to verify other tenants' events) and rotate it.
# No "delete" capability: a signing key is never destroyed by the platform.
path "transit/keys/cityops-tenant-*" {
  capabilities = ["create", "read", "update"]
}

# List the keys (their names only).
path "transit/keys" {
  capabilities = ["list"]
}

# Sign outbound CloudEvents with the tenant's key (also
# transit/sign/<name>/<hash_algorithm>, covered by the glob).
path "transit/sign/cityops-tenant-*" {
  capabilities = ["update"]
}

# Verify inbound events from other tenants.
path "transit/verify/cityops-tenant-*" {
  capabilities = ["update"]
}
