# The opencompshare server as a container image (deploy/kubernetes/ runs it; README, "Run on a
# Kubernetes cluster"). Build: docker build -t registry.example.com/opencompshare:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module when no prebuilt binary matches
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production OCS_HOST=0.0.0.0 OCS_PORT=8080 OCS_DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
RUN mkdir -p /data && chown node:node /data
# uid 1000, as deploy/kubernetes/deployment.yaml's securityContext expects
USER node
EXPOSE 8080
CMD ["node", "dist/src/cli/main.js", "serve"]
