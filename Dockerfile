# gen3d server image. The build stage runs the commands tests/host/production-build.test.ts runs; the
# image holds the compiled server, its production dependencies and the built demo page, run by node alone.
FROM node:24-bookworm-slim AS build
RUN npm install --global pnpm@10.34.8
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm --filter '@gen3d/server...' build \
  && pnpm build:demo \
  && pnpm --filter @gen3d/server deploy --prod --legacy /app \
  && cp -r demo/dist /app/demo

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DEMO_DIR=/app/demo
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["node", "--expose-gc", "--conditions=production", "dist/main.js"]
