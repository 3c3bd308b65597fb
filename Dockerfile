# syntax=docker/dockerfile:1
# The referral service's container image: built in one stage with the dev dependencies, run from a
# small second stage with only the compiled code, the runtime dependencies, the SQL migrations,
# the static files and data-files/, as the unprivileged `node` user. Listens on $PORT (Cloud Run sets it).

# Node.js 26, the Active LTS line (supported until April 2029), on Debian 13 (trixie). Within
# package.json's engines (>=20.19; CI checks it); test/unit/node-engines.test.ts checks that every
# installed package runs on it. Both stages use the same Node.js, so native packages match.

# ---- build: compile TypeScript, then drop the dev dependencies ----
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --engine-strict
COPY tsconfig.json ./
COPY src ./src
# The browser scripts (client/) are bundled by scripts/build-client.mjs, part of `npm run build`;
# the password meter inlines Django's common-password list from data-files/.
COPY client ./client
COPY scripts ./scripts
COPY data-files ./data-files
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM node:26-trixie-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
# Code and dependencies belong to root and are read-only for the service; only DATA_DIR (PGlite,
# for trying the image without a database) is writable.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY drizzle ./drizzle
COPY public ./public
# Django's common-password list, read by dist/accounts at start, and the Inter font the link's
# preview picture is drawn with (dist/web/share-card.js).
COPY data-files ./data-files
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/healthcheck.js"]
# Node as PID 1 receives SIGTERM directly and drains (SHUTDOWN_TIMEOUT_SECONDS) before exiting.
CMD ["node", "dist/main.js"]
