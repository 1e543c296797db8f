# The operator image for real clusters (manifests/). Simulated runtime only: the process
# runtime needs the agent's host and is never enabled by the manifests.
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir -c constraints.txt . && rm -rf /src
USER 65532:65532
ENTRYPOINT ["simpod"]
