# syntax=docker/dockerfile:1
# psarnd in a container: multi-stage on the Node.js LTS slim image, non-root, data on /data.
# Not built in CI (no Docker engine there): kept correct by reading it against its base image;
# see README "Container". The build context is cut down by .dockerignore.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source where no prebuilt binary matches, and npm ci's install
# script compiles the native UDP batcher (src/native) with node-gyp: both need these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# npm ci needs every workspace's package.json as well as the root's; src/ is copied whole below,
# before npm ci, so a workspace under src/ is there when it runs.
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# tsconfig.json compiles test/ and bench/ with src/: tsc needs them to build dist/.
COPY test ./test
COPY bench ./bench
# npm ci runs the "prepare" script, which compiles TypeScript into dist/.
RUN npm ci && npm prune --omit=dev

FROM node:24-bookworm-slim
# The config is this ENV on top of psarnd's built-in defaults: the image holds no config file
# (psarnd and psarn read config/psarnd.yaml from /app only if one is mounted there, or the file
# PSARN_CONFIG names). So it never loads the demo routes: only a config that names demoRoutes
# does (the checkout's, for the README's first run; docs/design.md#demo-routes).
ENV NODE_ENV=production \
    PSARN_DB=/data/psarn.db \
    PSARN_LISTEN=0.0.0.0:8053 \
    PSARN_HTTP=0.0.0.0:9153
WORKDIR /app
# package.json: "type": "module" makes dist/**/*.js ES modules, and gives psarn its version.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
# psarn's workspace package psarn-client is linked as node_modules/psarn-client -> ../src/client:
# its manifest and its one bundled module, so the link resolves (dist/src/index.js, the library
# entry, re-exports it; docs/design.md#two-packages).
COPY --from=build /app/src/client/package.json ./src/client/package.json
COPY --from=build /app/src/client/dist/index.js ./src/client/dist/index.js
COPY --from=build /app/dist/src ./dist/src
# The web console's bundle (npm run build:console; served at / by dist/src/server/console-http.js).
COPY --from=build /app/dist/console ./dist/console
# The native UDP batcher built by npm ci's install script. The build stage has a compiler, so a
# missing file fails the image build instead of shipping psarnd on the slower node:dgram carrier.
# dist/src/server/udp-batch.js looks for it at ../../../src/native/build/Release/ (addonCandidates
# in src/server/udp-batch.ts), so it keeps the path it was built at: /app/src/native/build/Release.
COPY --from=build /app/src/native/build/Release/udp_batch.node ./src/native/build/Release/udp_batch.node
# psarn and psarnd on the PATH, as `npm link` puts them in a checkout: `docker exec <c> psarn
# route list`. The build keeps their execute bit and shebang (`#!/usr/bin/env node`; psarnd's
# passes a flag with `env -S`, which bookworm's coreutils 9.1 has); each entry point resolves its
# own symlink (isEntryPoint in main.ts), so it runs from /usr/local/bin.
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/psarn \
 && ln -s /app/dist/src/server/main.js /usr/local/bin/psarnd \
 && mkdir -p /data && chown node:node /data
# uid 1000. A named volume is initialised with /data's owner; a bind-mounted folder keeps the
# host's, so it must be writable by uid 1000 (or run with --user; README "Container").
USER node
VOLUME ["/data"]
EXPOSE 8053/udp 8053/tcp 9153/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9153/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/src/server/main.js"]
