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
# The gateway's anchor directory, owned by `nobody`: a new named volume mounted here takes this
# directory's owner and mode, so the gateway can write its anchor file with no root step first.
RUN install -d -o nobody -g nogroup -m 0700 /var/lib/sgb/anchor
WORKDIR /app
USER nobody
