// Prisma CLI configuration. Only `prisma generate` is used at build time; migrations are
// applied by libs/db/src/migrator.ts (see docs/decisions.md).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
