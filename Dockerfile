# One Conclave node. docker-compose.yml beside this file runs four of them; write their homes first:
#
#   conclave testnet-files --validators 4 --output testnet
#   docker compose up --build -d
#
# No Rust here: genesis.json embeds the contracts' code, so a node needs none of the contract
# sources; the committed contracts/artifacts are copied as they are (for `conclave genesis build
# --artifacts /opt/conclave/contracts/artifacts` inside the image). The build context is an
# allowlist (.dockerignore): no keys, node data or virtualenv ever enter the image.
FROM python:3.11-slim-bookworm

# The container user must own the mounted node home: build with the uid/gid that owns ./testnet
# (docker-compose.yml passes CONCLAVE_UID/CONCLAVE_GID, default 1000).
ARG UID=1000
ARG GID=1000

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONCLAVE_API_PORT=1317

RUN groupadd --gid "${GID}" conclave \
 && useradd --uid "${UID}" --gid conclave --home-dir /home/conclave --no-create-home \
            --shell /usr/sbin/nologin conclave \
 && mkdir -p /home/conclave \
 && chown conclave:conclave /home/conclave

WORKDIR /opt/conclave
COPY . .
RUN pip install . \
 && rm -rf build ./*.egg-info

USER conclave
WORKDIR /home/conclave

# API (node.json "api", published by docker-compose.yml on loopback) and p2p (between containers).
EXPOSE 1317 26656

HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/status' % os.environ.get('CONCLAVE_API_PORT', '1317'), timeout=4)"]

# exec form: the node is PID 1 and gets docker stop's SIGTERM itself (it shuts down cleanly on it).
ENTRYPOINT ["conclave"]
CMD ["start", "--home", "/home/conclave"]
