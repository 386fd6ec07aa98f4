# Solum server image. Builders run on the Docker engine whose socket is mounted at
# /var/run/docker.sock; Solum itself needs git and Node only.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM ${NODE_IMAGE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/solum
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY language-packs ./language-packs
ENV SOLUM_DATA_DIR=/data SOLUM_BIND=0.0.0.0 NODE_ENV=production
VOLUME /data
EXPOSE 2222 3000
# Needs: -v /var/run/docker.sock:/var/run/docker.sock (the engine that runs builders).
CMD ["node", "dist/src/main.js"]
