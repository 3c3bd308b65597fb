// With WEB_CONCURRENCY > 1 every worker counts its own requests; a scrape answered by one worker
// must still show the whole process group. The worker asks the primary, which gathers every
// worker's registry (prom-client's AggregatorRegistry) and answers with the sum.
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const REQUEST = "referral:cluster-metrics-request";
const RESPONSE = "referral:cluster-metrics-response";

interface Message {
  type?: unknown;
  id?: number;
  text?: string;
  error?: string;
}

/** In the primary: answers the workers' requests for the cluster's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: Message) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (error: Error) => worker.send({ type: RESPONSE, id: message.id, error: error.message }),
    );
  });
}

/**
 * In a worker: offers this worker's registry to the primary's aggregation, and returns a function
 * giving the whole cluster's metrics in Prometheus text.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // installs the worker's side of prom-client's cluster protocol
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<
    number,
    { resolve(text: string): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  process.on("message", (message: Message) => {
    if (message?.type !== RESPONSE || typeof message.id !== "number") return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (typeof message.text === "string") waiting.resolve(message.text);
    else waiting.reject(new Error(message.error ?? "no metrics from the primary"));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      // A draining worker has been disconnected from the primary; sending would throw.
      if (!process.connected) {
        reject(new Error("this worker is no longer connected to the primary"));
        return;
      }
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the primary did not answer with the cluster's metrics in time"));
      }, 7000);
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: REQUEST, id });
    });
}
