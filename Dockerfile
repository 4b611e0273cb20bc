# The pipeline's programs in one image (docker-compose.yml runs each as a
# service). Build stage: the whole toolchain; runtime stage: only the shared
# libraries, the four programs, the data and the results page, run as a
# non-root user.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake make gcc libc6-dev pkg-config protobuf-c-compiler \
      libzmq3-dev libprotobuf-c-dev libjansson-dev zlib1g-dev libcsv-dev \
      libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DEL_WEB_ROOT=/opt/election/web \
 && cmake --build /build -j"$(nproc)" --target aggregator publisher ingest subscribe

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libzmq5 libprotobuf-c1 libjansson4 zlib1g libcsv3 libmicrohttpd12 libcurl4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/election --shell /usr/sbin/nologin election \
 && mkdir -p /var/lib/election \
 && chown election:election /var/lib/election
COPY --from=build /build/bin/aggregator /build/bin/publisher /build/bin/ingest /build/bin/subscribe /usr/local/bin/
COPY data /opt/election/data
COPY web /opt/election/web
# Relative paths (data/ge2015.csv, the aggregator's default baseline) resolve here
WORKDIR /opt/election
USER election
EXPOSE 5555 5556 5557 5558 5559 8080
CMD ["aggregator", "--help"]
