#!/bin/sh
# Stands in for Prisma's native schema engine binary, which cannot be downloaded on these machines.
# `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to name an existing file and never runs it;
# any Prisma command that does run it (migrate, db, validate…) fails here, loudly, on purpose.
echo "use te-migrate; the Prisma schema engine binary is not available here (tools/prisma-migrate/README.md)" >&2
exit 1
