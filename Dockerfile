# Bantico: one executable, one volume.
#   docker build -t bantico .
#   docker run -d --name bantico -v bantico:/data -p 3000:3000 bantico

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Bun itself comes from the npm registry as a dev dependency.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 bantico \
 && useradd --system --uid 10001 --gid bantico --home-dir /data --shell /usr/sbin/nologin bantico \
 && mkdir -p /data && chown bantico:bantico /data
COPY --from=build /src/dist/bantico /usr/local/bin/bantico
ENV PORT=3000 \
    BANTICO_DATA_DIR=/data
VOLUME ["/data"]
USER bantico
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["bantico", "healthcheck"]
ENTRYPOINT ["bantico"]
CMD ["serve"]
