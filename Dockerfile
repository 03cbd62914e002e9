# syntax=docker/dockerfile:1
# The grader as the platform runs it; docs/platform.md is the contract. For example:
#   docker build -t cnn-grader .
#   docker run --rm -i --network none --read-only --tmpfs /tmp --pids-limit 128 --memory 2g \
#     cnn-grader grade --task conv_backward - < submission.py > feedback.json
#   docker run --rm --read-only --tmpfs /tmp -p 8080:8080 -e GRADER_TOKENS="platform submit $TOKEN" \
#     cnn-grader serve
FROM python:3.11.9-slim-bookworm

# bubblewrap: the default sandbox backend (it needs user namespaces: see docs/platform.md);
# util-linux has setpriv, with which bwrap drops to a uid of its own when run as root.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap=0.8.0-2+deb12u1 util-linux=2.38.1-5+deb12u3 \
 && rm -rf /var/lib/apt/lists/*

# The grader runs as this user, never as root.
RUN groupadd --system --gid 10001 grader \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin grader

WORKDIR /build
COPY deploy/requirements.txt deploy/requirements.txt
RUN pip install --no-cache-dir --no-deps -r deploy/requirements.txt
COPY pyproject.toml README.md ./
COPY grader grader
RUN pip install --no-cache-dir --no-deps . \
 && rm -rf /build

# The tasks root: specs, references, templates. Owned by the grader and readable by nobody
# else, so that no other uid - in particular none a submission runs as - can ever read them.
COPY --chown=10001:10001 tasks /opt/grader/tasks
COPY --chown=10001:10001 reference /opt/grader/reference
COPY --chown=10001:10001 student_template /opt/grader/student_template
COPY --chown=10001:10001 grader.yaml /opt/grader/grader.yaml
RUN chown 10001:10001 /opt/grader \
 && find /opt/grader -type d -exec chmod 0700 {} + \
 && find /opt/grader -type f -exec chmod 0600 {} +

# grader serve listens on every interface of the container (published with -p 8080:8080);
# beyond loopback it always needs a token: without GRADER_TOKENS it makes one for the run and
# prints it. Its database lives in /tmp unless service.database says otherwise.
ENV GRADER_ROOT=/opt/grader \
    GRADER_CACHE_DIR=/opt/grader/cache \
    GRADER_SERVE_HOST=0.0.0.0 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8
EXPOSE 8080

USER 10001:10001
WORKDIR /opt/grader
# Parse and validate grader.yaml, the specs and the catalogs once, here, and follow the shared
# libraries the sandboxed interpreter needs: at run time the root file system is read-only and
# every grading reads them back from this cache.
RUN grader list > /dev/null \
 && python -c "from grader.feedback import messages; [messages.catalog(lang) for lang in messages.LANGUAGES]" \
 && python -c "from grader.sandbox import layout; layout.runtime_files(*layout.layout())"

ENTRYPOINT ["grader"]
CMD ["--help"]
