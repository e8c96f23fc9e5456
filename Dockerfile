# glimpse agent image, deployed by the Helm chart in helm/glimpse:
#   docker build -t glimpse:0.1.0 .
# amd64 only for now: the BPF programs compile against vmlinux/x86/vmlinux.h (CO-RE, so one
# image runs on any amd64 kernel with BTF).

# ---- build: the packages of BUILD_PKGS in scripts/install-deps.sh, minus what `make
# build/glimpse` does not use (llvm; the test, demo and benchmark packages).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      make pkg-config gcc libc6-dev clang bpftool \
      libbpf-dev libelf-dev libdw-dev zlib1g-dev \
      libprotobuf-c-dev protobuf-c-compiler golang-github-google-pprof-dev \
      libcapstone-dev libcurl4-openssl-dev libmicrohttpd-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" build/glimpse \
 && strip --strip-debug build/glimpse \
 && ./build/glimpse --version

# ---- runtime: glimpse and the shared libraries it links, nothing else (no shell tools are
# needed: the agent reads /proc and /sys itself). ca-certificates: OTLP over https.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libbpf1 libelf1 libdw1 zlib1g libprotobuf-c1 libcapstone4 libcurl4 \
      libmicrohttpd12 libyaml-0-2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/glimpse /usr/local/bin/glimpse
# Runs as root: loading BPF programs and reading other processes' /proc entries need it (the
# chart grants either privileged mode or an explicit capability list).
USER 0
EXPOSE 9464
ENTRYPOINT ["glimpse"]
CMD ["agent", "--config", "/etc/glimpse/config.yaml"]
