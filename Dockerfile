# syntax=docker/dockerfile:1
#
# conflict-updater container image (docs/deployment.md).
#   docker build --platform linux/amd64 -t conflict-snowflake:latest .
#   docker run --rm -e ACTION=validate_config conflict-snowflake:latest
#
# Two stages: "build" compiles the TypeScript sources with the dev dependencies; "runtime" holds
# only the production dependencies, the compiled program and its launcher, and runs as the
# unprivileged "node" user. ACTION comes from the environment (the task definition or a
# containerOverride); the image passes no arguments of its own.

# ---- build: npm ci (with dev dependencies) + npm run build -> /app/dist ----------------------
# Runs on the builder's own platform: tsc output is platform independent, and only dist/ leaves
# this stage, so an arm64 laptop does not emulate x86 to compile.
FROM --platform=$BUILDPLATFORM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only -----------------------------------------------------
# --omit=optional leaves out embedded-postgres (local runs only) and with it every other optional
# package, including DuckDB's native binding: in the container the warehouse is Snowflake and
# the target an external PostgreSQL, and the program loads DuckDB only when it is the warehouse.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# No heap cap here: it travels with the task size. The task definition sets
# NODE_OPTIONS=--max-old-space-size=<a fraction of the task's memory> (src/deploy/heap.ts, used by
# the CDK stack, the deploy tool and the benchmark); see docs/deployment.md, "Sizing".
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The Amazon RDS CA bundle (operations.md, "Security"): TLS to RDS is verified against it by default
# (src/target/tls.ts reads certs/ beside the program). Fetched from AWS's trust store when the image
# is built; the build fails if the file is not the one pinned here. When AWS publishes a new bundle,
# download it, inspect it (openssl crl2pkcs7 -nocrl -certfile global-bundle.pem | openssl pkcs7
# -print_certs -noout) and update the checksum.
ADD --checksum=sha256:e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3 --chmod=444 \
    https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /app/certs/rds-global-bundle.pem
# The code stays owned by root and read-only for the job; it may write run reports under data/.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
LABEL org.opencontainers.image.title="conflict-updater" \
      org.opencontainers.image.description="Detects caregiver visit conflicts in Snowflake and syncs them into PostgreSQL"
ENTRYPOINT ["node", "bin/conflict-updater.js"]
