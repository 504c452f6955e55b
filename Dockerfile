# Bluezone server image: a static binary (SQLite is modernc.org/sqlite, pure
# Go, so CGO_ENABLED=0) on an empty base, run as an unprivileged user.
# Build:  docker build -t bluezone .
# Run:    docker run -p 8080:8080 -v bluezone-data:/data bluezone
# docs/operations.md has the rest (PostgreSQL, S3, keys, TLS).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# timetzdata: the binary carries the time zone database (the empty image
# has none). -trimpath and no build ids: the same source gives the same binary.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w -buildid=" -o /out/bluezone ./cmd/bluezone \
 && mkdir -p /out/data /out/tmp \
 && chown 65532:65532 /out/data \
 && chmod 0700 /out/data \
 && chmod 1777 /out/tmp

FROM scratch
# CA certificates for S3 over TLS; nothing else of the build image.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/bluezone /bluezone
COPY --from=build /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/data /data
# 65532: "nonroot" in distroless images; no name is needed without /etc/passwd.
USER 65532:65532
ENV BLUEZONE_ADDR=0.0.0.0:8080 \
    BLUEZONE_DATA_DIR=/data \
    TMPDIR=/tmp
# The SQLite database, export files, instance id and (unless
# --callback-key-file names another) the callback key.
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["/bluezone", "healthcheck"]
ENTRYPOINT ["/bluezone"]
CMD ["serve"]
