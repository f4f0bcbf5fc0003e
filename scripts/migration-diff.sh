#!/usr/bin/env bash
# Prints the SQL that takes the database from one schema to another, using Prisma 6.19's CLI
# with its WASM engine (Prisma 7's schema engine is a native binary that cannot be
# downloaded on every machine). Run it by hand when prisma/schema.prisma changes:
#   scripts/migration-diff.sh [old.prisma] > prisma/migrations/<timestamp>_<name>/migration.sql
# Needs a scratch Postgres database in SCRATCH_DATABASE_URL (default: local `postgres` db).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo '{"name":"migration-diff","private":true}' > package.json
npm install --silent prisma@6.19 @prisma/adapter-pg@6 @prisma/client@6 pg >/dev/null 2>&1
addurl() { sed 's/provider = "postgresql"/provider = "postgresql"\n  url      = env("DATABASE_URL")/' "$1" \
  | sed '/^generator client {/,/^}/d'; printf 'generator client {\n  provider = "prisma-client-js"\n}\n'; }
addurl "$root/prisma/schema.prisma" > schema.prisma
cat > prisma.config.ts <<'TS'
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'schema.prisma',
  async adapter() { return new PrismaPg({ connectionString: process.env.DATABASE_URL }); },
} as never);
TS
export DATABASE_URL=${SCRATCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
export PRISMA_SCHEMA_ENGINE_BINARY=$(command -v node) PRISMA_QUERY_ENGINE_LIBRARY=$(command -v node)
if [ -n "$old" ]; then
  addurl "$old" > old.prisma
  npx prisma migrate diff --from-schema-datamodel old.prisma --to-schema-datamodel schema.prisma --script
else
  npx prisma migrate diff --from-empty --to-schema-datamodel schema.prisma --script
fi
