# syntax=docker/dockerfile:1
# netguard: the admission webhook server. No Docker engine runs where this is developed;
# scripts/docker-build-check.sh performs the same steps outside Docker and starts the result.
ARG NODE_IMAGE=node:20-bookworm

# Compile TypeScript with the full dependency set.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/crd-schemas.mjs ./scripts/
COPY manifests/crds/upstream ./manifests/crds/upstream
COPY policies ./policies
COPY server ./server
COPY certs ./certs
COPY kube ./kube
RUN node scripts/crd-schemas.mjs && npx tsc -p tsconfig.json

# Production dependencies only, in a clean tree.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json makes dist/ ES modules and carries the version netguard reports.
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's `node` user, numeric so that runAsNonRoot can verify it. Nothing under /app is writable by it.
USER 1000:1000
EXPOSE 8443
# No HEALTHCHECK: Kubernetes ignores it. The Deployment probes GET /readyz (readiness) and /healthz
# (liveness) over HTTPS on 8443; see manifests/base/deployment.yaml.
ENTRYPOINT ["node", "dist/server/cli/main.js", "serve"]
