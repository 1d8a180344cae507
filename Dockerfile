# The demo board in a container: the library compiled (npm run build), the app built by
# Vite (npm run build:demo), served by demo/server.ts on 0.0.0.0:8080 with its file driver
# in /app/.data (a volume: actors survive a restart of the container).
#
#   docker build -t tandem-demo .
#   docker run --rm -p 8080:8080 -v tandem-data:/app/.data tandem-demo
#
# Node runs as PID 1 and handles SIGTERM itself (`docker stop` closes actors and the data
# directory cleanly). Behind a TLS-terminating proxy, see docs/deployment.md.
FROM node:20-bookworm-slim

ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080

WORKDIR /app

# Dependencies first, so that a change of the sources reuses this layer. Dev dependencies
# are installed too: the build needs TypeScript and Vite.
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund

COPY . .
RUN npm run build && npm run build:demo \
 && mkdir -p .data && chown -R node:node .data dist

USER node
VOLUME ["/app/.data"]
EXPOSE 8080

# demo/server.ts: the demo's own files through tsx, the library as compiled JavaScript.
CMD ["node", "--import", "tsx", "demo/server.ts"]
