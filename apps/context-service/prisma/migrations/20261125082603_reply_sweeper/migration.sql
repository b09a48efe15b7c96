-- CreateIndex
CREATE INDEX "messages_status_created_at_idx" ON "messages"("status", "created_at");
