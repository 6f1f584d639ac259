# idcgate in a container: `idcgate serve` as a non-root user, data in a volume.
#   docker build --build-arg IDCGATE_GIT_COMMIT=$(git rev-parse --short HEAD) -t idcgate .
#   docker run -p 127.0.0.1:8080:8080 -v idcgate-data:/var/lib/idcgate idcgate
# With PostgreSQL: deploy/compose.yaml. Any IDCGATE_* setting can be given with -e.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The commit `idcgate --version` names (the build context has no .git).
ARG IDCGATE_GIT_COMMIT=
ENV IDCGATE_GIT_COMMIT=${IDCGATE_GIT_COMMIT}
RUN cargo build --release --locked -p idcgate --bin idcgate \
 && install -m 0755 target/release/idcgate /idcgate

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/idcgate --shell /usr/sbin/nologin idcgate \
 && install -d -m 0700 -o idcgate -g idcgate /var/lib/idcgate
COPY --from=build /idcgate /usr/local/bin/idcgate
ENV IDCGATE_DATA_DIR=/var/lib/idcgate \
    IDCGATE_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/idcgate"]
USER idcgate
EXPOSE 8080
# idcgate finishes requests in flight and gives its job leases back on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["idcgate"]
CMD ["serve"]
