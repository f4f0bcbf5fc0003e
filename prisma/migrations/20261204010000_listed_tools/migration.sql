-- The tools a gateway node last listed per installation (a federated upstream's, a hosted
-- server's), so the admin API can show them without reaching an upstream (docs/decisions.md).

-- AlterTable
ALTER TABLE "plugin_installations" ADD COLUMN     "listed_tools" JSONB,
ADD COLUMN     "listed_tools_at" TIMESTAMPTZ(3),
ADD COLUMN     "listed_tools_hash" VARCHAR(64);
