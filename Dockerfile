# The Airflow image of docker-compose.yaml: the pinned Apache Airflow release with this provider
# installed at build time, pinned by constraints.txt (the versions CI tests), instead of at
# container start. Build it with `docker compose build` (it needs PyPI and Docker Hub).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

COPY --chown=airflow:0 pyproject.toml README.md LICENSE constraints.txt /opt/provider/
COPY --chown=airflow:0 airflow_provider_customerprofiles /opt/provider/airflow_provider_customerprofiles
# apache-airflow is pinned in constraints.txt to the image's own version, so pip keeps it as it is.
RUN pip install --no-cache-dir --constraint /opt/provider/constraints.txt /opt/provider
