-- Upstream OAuth credentials (issue 18): what the platform holds toward an OAuth-protected
-- upstream MCP server, per remote-mcp installation (and subject, "" = shared). Token material is
-- sealed with SECRETS_KEY; only the status and the access token's expiry are in clear.

-- CreateTable
CREATE TABLE "upstream_credentials" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "installation_id" UUID NOT NULL,
    "subject" VARCHAR(200) NOT NULL DEFAULT '',
    "status" VARCHAR(20) NOT NULL,
    "sealed" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "pending_nonce" VARCHAR(64),
    "pending_sealed" TEXT,
    "last_error" VARCHAR(500),
    "connected_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "upstream_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "upstream_credentials_tenant_id_installation_id_subject_key" ON "upstream_credentials"("tenant_id", "installation_id", "subject");
