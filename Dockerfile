FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir .
# The bot runs from /app/bot (the working folder comes first on the path) and writes no
# bytecode: compiled once here, each start (`python -m bot ask`) skips compiling every module.
RUN python -m compileall -q bot handlers
# The picture's Chinese font (Noto Sans SC) comes with the pylopdf-fonts-zh-cn wheel above, so
# no system font package is needed. Build matplotlib's font cache now, not on the first picture.
RUN python -c "import matplotlib.font_manager"

COPY data ./data
# One question now fills var/cache (FENGONG_CACHE): the first `python -m bot ask` of a new
# container reads its compiled patterns instead of compiling them (a new volume takes it).
RUN python -m bot ask "残联负责哪些" > /dev/null
# The database lives in a volume so that notes survive a new image.
VOLUME ["/app/var"]
ENV FENGONG_DB=/app/var/fengong.db
# The web console (README "Web console"): reachable from outside the container.
ENV FENGONG_WEB_LISTEN=0.0.0.0
EXPOSE 8088

# WeCom's callback server (WECOM_PORT) and Telegram's webhook server (TELEGRAM_WEBHOOK_PORT).
EXPOSE 8080 8443
# GET /healthz of whichever server runs (none by long polling: then the process is the check).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "handlers.probe"]

CMD ["python", "-m", "bot"]
