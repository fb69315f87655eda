# The credential service. The contracts' artifacts are committed, so no compiler or Node.js is needed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
COPY artifacts ./artifacts
COPY scripts ./scripts
RUN pip install --no-cache-dir -e . && useradd --create-home hub && mkdir -p /data && chown hub /data

USER hub
EXPOSE 8000
# deploy on first start (reused afterwards: the deployment record lives on the /data volume), then serve
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
