-- Virtual servers (issue 18): a tenant's curated endpoints, `/t/{tenant}/v/{name}/mcp`, made of
-- chosen tools of its installations under the names and descriptions it picks.

-- CreateTable
CREATE TABLE "virtual_servers" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" VARCHAR(40) NOT NULL,
    "description" VARCHAR(1000) NOT NULL DEFAULT '',
    "tools" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "virtual_servers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "virtual_servers_tenant_id_name_key" ON "virtual_servers"("tenant_id", "name");

-- AddForeignKey
ALTER TABLE "virtual_servers" ADD CONSTRAINT "virtual_servers_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A key may be restricted to virtual servers (by name): then only their URLs admit it. Empty =
-- no such restriction. Tenant tokens and OAuth grants made with the key resolve it from the key.
-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "virtual_servers" TEXT[] DEFAULT ARRAY[]::TEXT[];
