# SPDX-License-Identifier: Apache-2.0
#
# keygate's container image: one static binary on an empty (scratch) base,
# run as an unprivileged user, with its data (the SQLite database and the
# master key file, unless PostgreSQL and a KMS or env key are configured) in
# the /data volume.
#
# Two ways to build it (docs/operator.md, "Container image"):
#
#   docker build -t keygate .      compiles keygate in the "build" stage, from
#                                  a Go image (needs the network to pull it
#                                  and the modules)
#   scripts/image                  builds the binary on this machine and then
#                                  only the final stage below, so nothing is
#                                  pulled: what CI runs, offline
#
# The final stage is the one scripts/image uses: keep everything the image
# needs in it, and its only COPY the one from the build stage's /rootfs.

ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
ARG TAGS=
RUN set -eu; \
	pkg=github.com/keygate/keygate/internal/version; \
	mkdir -p /rootfs/data /rootfs/etc/ssl/certs; \
	CGO_ENABLED=0 go build -trimpath -tags "$TAGS" \
		-ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$COMMIT -X $pkg.date=$DATE" \
		-o /rootfs/keygate ./cmd/keygate; \
	cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/

FROM scratch
# The binary, the CA certificates it checks providers' TLS with, and /data
# owned by the user that runs keygate.
COPY --from=build --chown=65532:65532 /rootfs/ /
USER 65532:65532
ENV KEYGATE_LISTEN_ADDR=0.0.0.0:8080 \
	KEYGATE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# No shell in the image: keygate probes its own /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/keygate", "healthcheck"]
ENTRYPOINT ["/keygate"]
CMD ["serve"]
