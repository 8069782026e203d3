FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY broker broker
COPY consumers consumers
COPY schemas schemas
COPY audit audit
RUN pip install --no-cache-dir .
USER nobody
