# The dashboard as one container: `streamlit run dashboard.py` on port 8501 as a non-root user.
#
#   docker build -t nk-aml-dashboard .
#   docker run --rm -p 8501:8501 nk-aml-dashboard
#   # another dataset, mounted read-only:
#   docker run --rm -p 8501:8501 -v /srv/nk/trials.parquet:/data/trials.parquet:ro \
#       -e NK_TRIALS_PATH=/data/trials.parquet nk-aml-dashboard
#
# Not built in the development sandbox (it has a Docker client but no daemon); see docs/scale-out.md.
# For more than one replica run several containers behind deploy/nginx.conf.template.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NK_TRIALS_PATH=/app/data/trials.parquet \
    MALLOC_ARENA_MAX=2

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app

WORKDIR /app
# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app, owned by root: the app user can read it but not change it, the Parquet included.
COPY . .
RUN chmod -R a-w /app/data

USER app
EXPOSE 8501

# python:3.11-slim has no curl; Python's urllib answers the same question.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["python", "-m", "nkapp.serve", "run", "dashboard.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
