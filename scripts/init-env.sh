#!/usr/bin/env sh
# Fills every empty secret in .env with a fresh random value (never overwrites a set one).
# Usage: cp .env.example .env && ./scripts/init-env.sh
set -eu
file=${1:-.env}
[ -f "$file" ] || { echo "no $file: cp .env.example $file first" >&2; exit 1; }
for name in POSTGRES_PASSWORD ADMIN_JWT_SECRET SECRETS_KEY KEY_PEPPER CLUSTER_SECRET; do
  if grep -q "^$name=$" "$file"; then
    value=$(openssl rand -base64 32 | tr -d '\n')
    # '|' cannot occur in base64, so it is a safe sed delimiter.
    sed -i.bak "s|^$name=$|$name=$value|" "$file" && rm -f "$file.bak"
    echo "generated $name"
  fi
done
chmod 600 "$file"
