# Multi-stage build of the `stepdown` binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p stepdown

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin stepdown
COPY --from=build /src/target/release/stepdown /usr/local/bin/stepdown
ENV STEPDOWN_BIND=0.0.0.0:8080 \
    STEPDOWN_ENV=production \
    STEPDOWN_LOG_FORMAT=json
EXPOSE 8080
USER 10001
ENTRYPOINT ["stepdown"]
CMD ["serve"]
