FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir .
# The picture's Chinese font (Noto Sans SC) comes with the pylopdf-fonts-zh-cn wheel above, so
# no system font package is needed. Build matplotlib's font cache now, not on the first picture.
RUN python -c "import matplotlib.font_manager"

COPY data ./data
# The database lives in a volume so that notes survive a new image.
VOLUME ["/app/var"]
ENV FENGONG_DB=/app/var/fengong.db

CMD ["python", "-m", "bot"]
