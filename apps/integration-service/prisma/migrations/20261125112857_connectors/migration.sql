-- AlterTable
ALTER TABLE "webhook_deliveries" ADD COLUMN     "connector_id" UUID,
ALTER COLUMN "endpoint_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "connectors" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "event_types" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "credential_key_id" TEXT,
    "credential_ciphertext" BYTEA,
    "credential_hint" TEXT,
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "connectors_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "connectors_user_id_created_at_idx" ON "connectors"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_connector_id_created_at_id_idx" ON "webhook_deliveries"("connector_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_connector_id_event_id_key" ON "webhook_deliveries"("connector_id", "event_id");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_connector_id_fkey" FOREIGN KEY ("connector_id") REFERENCES "connectors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

