// A GraphQL request over HTTP with headers of the caller's choosing, answering the response's headers too.
import type { TestServer } from "./harness.js";

export interface Answer<T> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  code: string | undefined;
}

/** POSTs a GraphQL request with extra headers; returns the status, the headers and the body. */
export async function sendWithHeaders<T>(srv: TestServer, query: string, variables: Record<string, unknown>, token: string, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const res = await fetch(srv.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, headers: res.headers, data: body.data, code: body.errors?.[0]?.extensions?.code };
}
