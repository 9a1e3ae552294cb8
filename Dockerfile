# engagement: production image. Build: docker build -t engagement .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=wsgi \
    ENGAGEMENT_ENV=production \
    ENGAGEMENT_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/engagement-metrics

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY engagement ./engagement
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py ./

RUN useradd --system --uid 10001 --home /app engagement \
    && mkdir -p /app/instance \
    && chown engagement /app/instance
USER engagement

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

# Migrate, then replace the shell with gunicorn so it receives SIGTERM directly and drains gracefully.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn -c gunicorn.conf.py"]
