-- CreateTable
CREATE TABLE "queued_inferences" (
    "user_id" UUID NOT NULL,
    "request_id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "request" JSONB,
    "response" JSONB,
    "error_code" TEXT,
    "error_message" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "queued_inferences_pkey" PRIMARY KEY ("user_id","request_id")
);

-- CreateIndex
CREATE INDEX "queued_inferences_status_created_at_idx" ON "queued_inferences"("status", "created_at");

-- CreateIndex
CREATE INDEX "queued_inferences_created_at_idx" ON "queued_inferences"("created_at");
