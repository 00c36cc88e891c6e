# CPU image of 科学空间问答: installs the project, prepares the offline models at build time,
# and serves the chat UI. Mount a corpus at /data/corpus (indexed on first start) or an index at /data/index.
# The code-running tool needs bubblewrap namespaces: run with --security-opt seccomp=unconfined, or it refuses.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git bubblewrap \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    CMAKE_ARGS="-DLLAMA_CURL=OFF" \
    HF_HUB_OFFLINE=1 \
    KEXUE_CACHE_DIR=/models \
    KEXUE_INDEX=/data/index \
    KEXUE_CORPUS=/data/corpus

WORKDIR /srv/kexue
COPY pyproject.toml README.md ./
COPY app ./app
COPY ingest ./ingest
COPY plugins ./plugins
COPY eval ./eval
COPY scripts/docker-entrypoint.sh ./scripts/docker-entrypoint.sh

RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install . \
 && kexue models prepare

VOLUME ["/data"]
EXPOSE 7860
ENTRYPOINT ["./scripts/docker-entrypoint.sh"]
CMD ["kexue", "chat", "--host", "0.0.0.0", "--port", "7860"]
