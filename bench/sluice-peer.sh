#!/usr/bin/env bash
# Sluice as the EXTRA proxy of ../shared/bench/peers.sh (see its README): a config made from the
# BENCH_* variables the harness exports, a least-connections pool of its two backends, every path
# forwarded; Sluice in the foreground so the harness can stop it with SIGTERM. It starts cold, as the
# other proxies do; SLUICE_WARMUP=10s or =auto sets server.warmup (measured in docs/BENCHMARKS.md; with
# auto, give the harness EXTRA_READY_S=90 EXTRA_TLS_READY_S=90, since the warm-up may take up to 60 s).
#   EXTRA_NAME=sluice EXTRA_CMD="$PWD/bench/sluice-peer.sh" EXTRA_PORT=18080 ../shared/bench/peers.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${BENCH_RUN_DIR:-/tmp}/sluice-$BENCH_POOL"; mkdir -p "$dir"
backends=""; IFS=',' read -ra ups <<< "$BENCH_UPSTREAMS"
for u in "${ups[@]}"; do backends+="      - url: http://$u"$'\n'; done
# S4/S5 (BENCH_POOL=tls): also TLS (1.2 and 1.3, ALPN h2 and http/1.1) with the run's certificate.
tls=""
if [ "$BENCH_POOL" = tls ]; then
  tls="  - name: tls
    port: $BENCH_TLS_PORT
    host: 127.0.0.1
    idle-timeout: 300s
    header-timeout: 60s
    tls: { certificates: [ { cert: \"$BENCH_CERT\", key: \"$BENCH_KEY\" } ] }
    routes: [ { path: /, pool: bench } ]"
fi
cat > "$dir/sluice.yaml" <<YAML
server: { shutdown-grace: 1s, transport: ${SLUICE_TRANSPORT:-auto}, warmup: ${SLUICE_WARMUP:-0s} }
listeners:
  - port: $BENCH_LISTEN_PORT
    host: 127.0.0.1
    idle-timeout: 300s
    header-timeout: 60s
    routes: [ { path: /, pool: bench } ]
$tls
pools:
  bench:
    max-idle-per-backend: 1024
    health: { path: /health, interval: 5s, timeout: 1s }
    backends:
$backends
YAML
# A small fixed young generation keeps idle connections cheap (S1, S3). For thousands of streams (S2) the
# initial heap is larger, so that the old generation is not grown by full collections during the ramp.
# docs/BENCHMARKS.md has the measurements behind both.
xms=64m; [ "$BENCH_POOL" = sse ] && xms=256m
# TrimNativeHeapInterval: as bin/run and the image (about 10 % less RSS, docs/BENCHMARKS.md).
exec ${SLUICE_JAVA:-java} ${SLUICE_JAVA_OPTS:--Xms$xms -Xmx1g -Xmn24m -XX:+UseParallelGC -XX:TrimNativeHeapInterval=5000} -jar "$root/lb-http/target/sluice.jar" --config "$dir/sluice.yaml"
