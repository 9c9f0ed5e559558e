// One POST to /graphql, its answer with what differs from run to run (ids, instants, signatures,
// hashes, positions, the test's subjects) replaced by placeholders, so two paths' answers compare equal.

export type Sent = { status: number; type: string | null; cache: string | null; body: unknown };

export async function normalisedPost(url: string, body: Record<string, unknown>, token: string | null, subjects: string[] = [], accept?: string): Promise<Sent> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (accept !== undefined) headers["accept"] = accept;
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  let text = await res.text();
  for (const s of subjects) text = text.split(s).join("<subject>");
  text = text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<instant>")
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "<jws>")
    .replace(/[0-9a-f]{64}/g, "<hash>")
    .replace(/"position":\d+/g, '"position":0')
    .replace(/\b\d{16}\b/g, "<position>");
  return { status: res.status, type: res.headers.get("content-type"), cache: res.headers.get("cache-control"), body: JSON.parse(text) as unknown };
}
