-- CreateIndex
CREATE INDEX "attachments_object_key_idx" ON "attachments"("object_key");
