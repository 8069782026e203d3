FROM python:3.11-slim
# Built from a copy that is then removed: `python -m broker...` run from the source directory would
# import the copied source (cwd comes first on sys.path) instead of the installed package and its data.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY broker broker
COPY consumers consumers
COPY schemas schemas
COPY audit audit
COPY transport transport
# The product alone: no extras (they are dev, test and benchmark tools), not editable (tests/test_install.py).
RUN pip install --no-cache-dir . && rm -rf /src
WORKDIR /app
USER nobody
