# syntax=docker/dockerfile:1
# psarnd in a container: multi-stage on the Node.js LTS slim image, non-root, data on /data.
# Not built in CI (no Docker engine there); see README "Container".

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source where no prebuilt binary matches, and npm ci's install
# script compiles the native UDP batcher (src/native) with node-gyp: both need these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
# npm ci runs the "prepare" script, which compiles TypeScript into dist/.
RUN npm ci && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PSARN_DB=/data/psarn.db \
    PSARN_LISTEN=0.0.0.0:8053 \
    PSARN_HTTP=0.0.0.0:9153
WORKDIR /app
# package.json: "type": "module" makes dist/**/*.js ES modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The native UDP batcher built by npm ci's install script. The build stage has a compiler, so a
# missing file fails the image build instead of shipping psarnd on the slower node:dgram carrier.
# dist/src/server/udp-batch.js looks for it at ../../../src/native/build/Release/ (addonCandidates
# in src/server/udp-batch.ts), so it keeps the path it was built at: /app/src/native/build/Release.
COPY --from=build /app/src/native/build/Release/udp_batch.node ./src/native/build/Release/udp_batch.node
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8053/udp 8053/tcp 9153/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9153/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/src/server/main.js"]
