// Proof of the ledger: the global feed, ledgerIntegrity, the signed head, and the offline verify against a forged row.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiptKeyPath } from "../../src/receipts/signer.js";
import { chainHash } from "../../src/log/canonical.js";
import { canonicalRowContent } from "../../src/storage/event-row.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { RECORD, SUSPEND, tokens } from "./support.js";
import { sqlite, verifyFile } from "../support/ledger-commands.js";

interface Head {
  position: string;
  hash: string;
  signedAt: string;
  jws: string;
}

const EVENTS = `query($f: Int, $a: String, $t: [String!], $s: ID) {
  events(first: $f, after: $a, types: $t, subjectId: $s) { edges { cursor node { position type subjectId hash prevHash } } pageInfo { hasNextPage endCursor } }
}`;
const INTEGRITY = `query { ledgerIntegrity { ok eventCount headPosition headHash firstInvalidPosition } }`;
const HEAD = `query { ledgerHead { position hash signedAt jws } }`;

let srv: TestServer;
let token: ReturnType<typeof tokens>;
let jwksFile: string;
let dbPath: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = tokens(srv);
  dbPath = join(srv.dataDir, "ledger.db");
  for (const s of ["ada", "ben", "cy"]) {
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "192.0.2.7" } } }, await token(s, "consent:self"));
    expect(r.errors).toBeUndefined();
  }
  await srv.gql(SUSPEND, { s: "ben" }, await token("officer", "subject:admin"));
  const jwks = (await (await fetch(new URL("/.well-known/jwks.json", srv.url))).json()) as JSONWebKeySet;
  jwksFile = join(srv.dataDir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify(jwks));
});
afterAll(() => srv.close());

const read = async () => token("auditor", "ledger:read");

describe("the global event feed", () => {
  it("needs ledger:read", async () => {
    expect((await srv.gql(EVENTS, {}, await token("x", "consent:read consent:write subject:admin"))).code).toBe("FORBIDDEN");
    expect((await srv.gql(EVENTS, {})).code).toBe("UNAUTHENTICATED");
  });

  it("pages oldest first, each page continuing where the last ended, and filters by type and subject", async () => {
    type Page = { events: { edges: { cursor: string; node: { position: string; type: string; subjectId: string | null; hash: string; prevHash: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const all = await srv.gql<Page>(EVENTS, { f: 100 }, await read());
    const nodes = all.data!.events.edges.map((e) => e.node);
    expect(nodes).toHaveLength(8); // publication, 3 × (accept + grant), suspension
    expect(nodes[0]!.type).toBe("PolicyVersionPublished");
    nodes.forEach((n, i) => i > 0 && expect(n.prevHash).toBe(nodes[i - 1]!.hash));

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Page = (await srv.gql<Page>(EVENTS, { f: 3, a: after }, await read())).data!;
      seen.push(...page.events.edges.map((e) => e.node.position));
      if (!page.events.pageInfo.hasNextPage) break;
      after = page.events.pageInfo.endCursor;
    }
    expect(seen).toEqual(nodes.map((n) => n.position));

    const grants = await srv.gql<Page>(EVENTS, { t: ["ConsentGranted"] }, await read());
    expect(grants.data!.events.edges.map((e) => e.node.subjectId)).toEqual(["ada", "ben", "cy"]);
    const ben = await srv.gql<Page>(EVENTS, { s: "ben" }, await read());
    expect(ben.data!.events.edges.map((e) => e.node.type)).toEqual(["PolicyAccepted", "ConsentGranted", "ProcessingSuspended"]);
    const benSuspended = await srv.gql<Page>(EVENTS, { s: "ben", t: ["ProcessingSuspended"] }, await read());
    expect(benSuspended.data!.events.edges).toHaveLength(1);
    expect((await srv.gql(EVENTS, { a: "not-a-cursor" }, await read())).code).toBe("BAD_USER_INPUT");
  });
});

describe("ledgerIntegrity, ledgerHead and the offline verify", () => {
  let head: Head;

  it("an intact ledger verifies online and offline, and its signed head checks out with the JWKS", async () => {
    const integrity = await srv.gql<{ ledgerIntegrity: Record<string, unknown> }>(INTEGRITY, {}, await read());
    expect(integrity.data!.ledgerIntegrity).toMatchObject({ ok: true, eventCount: 8, headPosition: "0000000000000008", firstInvalidPosition: null });
    expect((await srv.gql(HEAD, {}, await token("x", "consent:read"))).code).toBe("FORBIDDEN");

    head = (await srv.gql<{ ledgerHead: Head }>(HEAD, {}, await read())).data!.ledgerHead;
    expect(head).toMatchObject({ position: "0000000000000008", hash: integrity.data!.ledgerIntegrity.headHash });
    const jwks = JSON.parse(readFileSync(jwksFile, "utf8")) as JSONWebKeySet;
    const { payload, protectedHeader } = await compactVerify(head.jws, createLocalJWKSet(jwks));
    expect(protectedHeader.typ).toBe("ledger-head+jwt");
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ position: head.position, hash: head.hash });

    const offline = await verifyFile(dbPath, { headJws: head.jws, jwksFile });
    expect(offline).toMatchObject({ ok: true, chain: { ok: true, eventCount: 8, headHash: head.hash }, head: { ok: true, position: head.position, hash: head.hash } });
    // The receipt key file works as well as the JWKS; its private part is not needed.
    expect((await verifyFile(dbPath, { headJws: head.jws, keyFile: receiptKeyPath(srv.dataDir) })).ok).toBe(true);
  });

  it("a signed head that was tampered with, or signed by another key, is refused", async () => {
    const [h, , s] = head.jws.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ position: head.position, hash: "0".repeat(64) })).toString("base64url");
    const tampered = await verifyFile(dbPath, { headJws: `${h}.${forgedPayload}.${s}`, jwksFile });
    expect(tampered).toMatchObject({ ok: false, chain: { ok: true }, head: { ok: false, problem: expect.stringContaining("signature") } });
    const otherKey = join(srv.dataDir, "other.jwk.json");
    writeFileSync(otherKey, JSON.stringify(await exportJWK((await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })).privateKey)));
    expect((await verifyFile(dbPath, { headJws: head.jws, keyFile: otherKey })).head?.ok).toBe(false);
  });

  it("a row forged through SQL (guards dropped, one byte changed) is found online and offline; the signed head proves it", async () => {
    const earlyHead = head;
    // A head signed now covers all 8 events; a later event (9) lies after it.
    await srv.gql(SUSPEND, { s: "cy" }, await token("officer", "subject:admin"));
    const db = sqlite(srv.app.services.ledger).store.db;
    expect(() => db.prepare("UPDATE events SET data = data WHERE position = 5").run()).toThrow(/append-only/);
    db.exec("DROP TRIGGER events_refuse_update");
    // Turn ben's grant of location into one of linked-accounts: one changed value, same length.
    const before = (db.prepare("SELECT data FROM events WHERE position = 5").pluck().get() as string);
    expect(before).toContain('"purposeId":"location"');
    db.prepare(`UPDATE events SET data = replace(data, '"purposeId":"location"', '"purposeId":"locatioN"') WHERE position = 5`).run();

    const online = await srv.gql<{ ledgerIntegrity: Record<string, unknown> }>(INTEGRITY, {}, await read());
    expect(online.data!.ledgerIntegrity).toMatchObject({ ok: false, eventCount: 9, firstInvalidPosition: "0000000000000005" });

    const offline = await verifyFile(dbPath, { headJws: earlyHead.jws, jwksFile });
    expect(offline.ok).toBe(false);
    expect(offline.chain).toMatchObject({ ok: false, firstInvalidPosition: "0000000000000005", eventCount: 9 });
    expect(offline.head).toMatchObject({ ok: false, problem: expect.stringContaining("0000000000000005") });
  });

  it("a forger who rewrites every later hash to keep the chain consistent is caught by the signed head", async () => {
    const db = sqlite(srv.app.services.ledger).store.db;
    type Row = Parameters<typeof canonicalRowContent>[0];
    const rows = db.prepare("SELECT * FROM events WHERE position >= 5 ORDER BY position").all() as Row[];
    let prev = (db.prepare("SELECT hash FROM events WHERE position = 4").pluck().get() as Buffer).toString("hex");
    const fix = db.prepare("UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?");
    for (const r of rows) {
      const hash = chainHash(prev, canonicalRowContent({ ...r, prev_hash: Buffer.from(prev, "hex") }));
      fix.run(Buffer.from(prev, "hex"), Buffer.from(hash, "hex"), r.position);
      prev = hash;
    }
    const online = await srv.gql<{ ledgerIntegrity: { ok: boolean; firstInvalidPosition: string | null } }>(INTEGRITY, {}, await read());
    // The chain alone cannot tell (the read tables, rebuilt from the forged event, can: see read-model-check.test.ts).
    expect(online.data!.ledgerIntegrity.firstInvalidPosition).toBeNull();
    const offline = await verifyFile(dbPath, { headJws: head.jws, jwksFile });
    expect(offline).toMatchObject({ ok: false, chain: { ok: true }, head: { ok: false, problem: expect.stringContaining("has hash") } });
  });
});
