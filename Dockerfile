# syntax=docker/dockerfile:1
#
# scimgate gateway image: a static Go binary on distroless/static (CA
# certificates and tzdata included, no shell), running as uid 65532.
#
#   docker build -t scimgate:local .
#   docker run --rm -p 8080:8080 scimgate:local      # embedded in-memory Redis
#
# Production settings come from SCIMGATE_* variables or a mounted
# config.yaml (serve --config /etc/scimgate/config.yaml); see deploy/README.md.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so code changes reuse the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/gateway ./cmd/gateway

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /usr/local/bin/gateway
# distroless "nonroot": uid/gid 65532. Numeric, so runAsNonRoot can verify it.
USER 65532:65532
# Listen on every interface inside the container (the default is loopback).
ENV SCIMGATE_LISTEN=0.0.0.0:8080 \
    SCIMGATE_LOG_FORMAT=json
EXPOSE 8080
# No shell or curl in distroless: the binary checks itself
# (GET http://127.0.0.1:<port of SCIMGATE_LISTEN>/healthz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
