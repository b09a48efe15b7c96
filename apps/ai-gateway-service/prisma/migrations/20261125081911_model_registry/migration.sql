-- CreateTable
CREATE TABLE "models" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "model_id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "provider_model" TEXT NOT NULL,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "vision" BOOLEAN NOT NULL DEFAULT false,
    "streaming" BOOLEAN NOT NULL DEFAULT true,
    "context_window" INTEGER NOT NULL,
    "max_output_tokens" INTEGER NOT NULL,
    "input_price_per_million" DECIMAL(14,6) NOT NULL,
    "output_price_per_million" DECIMAL(14,6) NOT NULL,
    "deprecated_at" TIMESTAMPTZ(3),
    "retires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_aliases" (
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_aliases_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "model_alias_targets" (
    "alias_name" TEXT NOT NULL,
    "version_id" UUID NOT NULL,
    "weight" INTEGER NOT NULL,

    CONSTRAINT "model_alias_targets_pkey" PRIMARY KEY ("alias_name","version_id")
);

-- CreateTable
CREATE TABLE "stored_inferences" (
    "user_id" UUID NOT NULL,
    "request_id" TEXT NOT NULL,
    "inference_id" UUID NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stored_inferences_pkey" PRIMARY KEY ("user_id","request_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "models_name_key" ON "models"("name");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_model_id_version_key" ON "model_versions"("model_id", "version");

-- CreateIndex
CREATE INDEX "model_alias_targets_version_id_idx" ON "model_alias_targets"("version_id");

-- CreateIndex
CREATE UNIQUE INDEX "stored_inferences_inference_id_key" ON "stored_inferences"("inference_id");

-- CreateIndex
CREATE INDEX "stored_inferences_created_at_idx" ON "stored_inferences"("created_at");

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_alias_targets" ADD CONSTRAINT "model_alias_targets_alias_name_fkey" FOREIGN KEY ("alias_name") REFERENCES "model_aliases"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_alias_targets" ADD CONSTRAINT "model_alias_targets_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
