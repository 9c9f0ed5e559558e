// Batched requests (a JSON array of operations, as Apollo's BatchHttpLink sends) are refused with one
// answer per operation, each naming why, so a batching client shows the reason instead of a length mismatch.
import type { IncomingMessage, ServerResponse } from "node:http";

export const BATCH_REFUSED =
  "batched requests (a JSON array of operations) are not supported: send one operation per request (with Apollo Client, use HttpLink instead of BatchHttpLink)";

/**
 * Answers an array body: an array of as many error results, so every operation in the batch gets
 * the reason. A client that asked for `application/graphql-response+json` gets 400; one that takes
 * plain JSON (BatchHttpLink) gets 200, the status under which it reads each result's errors.
 */
export function refuseBatch(req: IncomingMessage, res: ServerResponse, batch: readonly unknown[]): void {
  const strict = String(req.headers.accept ?? "").includes("application/graphql-response+json");
  const one = { errors: [{ message: BATCH_REFUSED, extensions: { code: "BAD_REQUEST" } }] };
  res.writeHead(strict ? 400 : 200, {
    "content-type": `${strict ? "application/graphql-response+json" : "application/json"}; charset=utf-8`,
    "cache-control": "no-store",
  });
  res.end(JSON.stringify(Array.from({ length: Math.max(1, batch.length) }, () => one)));
}
