# Static, non-root image of the cvimprover binary.
#   docker build -t cvimprover .
#   docker run -p 8000:8000 -e LISTEN_ADDR=0.0.0.0:8000 cvimprover
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cvimprover ./cmd/cvimprover \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cvimprover /cvimprover
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data LISTEN_ADDR=0.0.0.0:8000 LOG_FORMAT=json
USER 65532:65532
EXPOSE 8000
VOLUME ["/data"]
ENTRYPOINT ["/cvimprover"]
CMD ["serve"]
