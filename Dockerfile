FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir .

COPY data ./data
# The database lives in a volume so that notes survive a new image.
VOLUME ["/app/var"]
ENV FENGONG_DB=/app/var/fengong.db

CMD ["python", "-m", "bot"]
