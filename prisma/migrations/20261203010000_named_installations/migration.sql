-- Named installations (issue 18): a tenant may install one plugin several times, each under its
-- own name. Existing rows keep working unchanged: their name is their plugin's.

-- AlterTable
ALTER TABLE "plugin_installations" ADD COLUMN "name" VARCHAR(64);
UPDATE "plugin_installations" SET "name" = "plugin";
ALTER TABLE "plugin_installations" ALTER COLUMN "name" SET NOT NULL;

-- Hand-written (Prisma's schema language cannot say it; the schema marks the column
-- @default(dbgenerated())): a row inserted without a name gets its plugin's, so every writer
-- (the API, the admin CLI, test set-ups) gets the default name without knowing about it.
CREATE FUNCTION "plugin_installations_default_name"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."name" IS NULL THEN
    NEW."name" := NEW."plugin";
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER "plugin_installations_default_name" BEFORE INSERT ON "plugin_installations"
  FOR EACH ROW EXECUTE FUNCTION "plugin_installations_default_name"();

-- DropIndex
DROP INDEX "plugin_installations_tenant_id_plugin_key";

-- CreateIndex
CREATE UNIQUE INDEX "plugin_installations_tenant_id_name_key" ON "plugin_installations"("tenant_id", "name");

-- Per-tool allowlist on API keys: `{installation}__{tool}` names; empty = every tool of the key's plugins.
-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "tools" TEXT[] DEFAULT ARRAY[]::TEXT[];
