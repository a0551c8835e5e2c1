# ATB Portal image: one image for web, worker and beat.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --create-home --uid 1000 atb
# Pango for WeasyPrint (the outcome letters' PDFs).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY --from=assets /build/node_modules ./node_modules
COPY . .
# collectstatic needs settings, not secrets: a throwaway key for the build only.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R atb:atb /app/var
USER atb
EXPOSE 8000
CMD ["gunicorn", "atb.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
