// The container's HEALTHCHECK: asks this instance's GET /healthz and exits 0 (healthy) or 1.
// Plain Node, so the runtime image needs no curl.
const port = process.env.PORT?.trim() || "8000";

fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) })
  .then((response) => process.exit(response.ok ? 0 : 1))
  .catch(() => process.exit(1));
