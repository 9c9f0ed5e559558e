# syntax=docker/dockerfile:1
# Consent ledger: build with the compilers better-sqlite3 needs, run as a non-root user without them.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Whatever tsconfig.build.json includes (src, bench); .dockerignore keeps node_modules, dist and keys out.
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/app/data \
    DATABASE_URL=sqlite:/app/data/ledger.db \
    CATALOG_DIR=/app/catalog/policies
# Same base image as the build stage, so the compiled addon in node_modules matches this Node ABI.
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
# The shipped catalogue lives outside the data volume, so a bind mount on /app/data cannot hide it.
COPY --chown=node:node data/policies ./catalog/policies
COPY --chown=node:node data/privacy-policy.ja.txt ./catalog/privacy-policy.ja.txt
# The ledger, its receipt key and dev keys are written here; it must belong to the runtime user.
RUN mkdir -p /app/data/keys && chown -R node:node /app/data && chmod 700 /app/data/keys
USER node
VOLUME /app/data
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm start): signals reach the process, and nothing is built at run time.
CMD ["node", "dist/src/main.js"]
