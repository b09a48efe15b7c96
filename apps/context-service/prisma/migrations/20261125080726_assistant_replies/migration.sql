-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "cost_usd" TEXT,
ADD COLUMN     "error_code" TEXT,
ADD COLUMN     "input_tokens" INTEGER,
ADD COLUMN     "output_tokens" INTEGER,
ADD COLUMN     "reply_to_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "messages_reply_to_id_key" ON "messages"("reply_to_id");
