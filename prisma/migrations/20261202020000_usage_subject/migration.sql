-- Usage by end user (issue 15): the principal's subject becomes part of the hourly bucket.
-- '' rather than NULL for calls without a subject: the column is part of the primary key.

-- AlterTable
ALTER TABLE "usage_records" ADD COLUMN "subject" VARCHAR(255) NOT NULL DEFAULT '';

-- AlterPrimaryKey
ALTER TABLE "usage_records" DROP CONSTRAINT "usage_records_pkey",
ADD CONSTRAINT "usage_records_pkey" PRIMARY KEY ("tenant_id", "api_key_id", "subject", "plugin", "tool", "hour");
