// ReceiptSigner: one key kept under the data folder (or RECEIPT_KEY_FILE), a public JWKS, verifiable JWS.
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CompactSign, calculateJwkThumbprint, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { receiptKeyPath, ReceiptSigner } from "../../src/receipts/signer.js";
import { makeTempDir } from "../support/common.js";

const payload = { consentReceiptID: "r-1", piiPrincipalId: "alice", consentTimestamp: 1_700_000_000 };

describe("ReceiptSigner.load without RECEIPT_KEY_FILE", () => {
  it("generates an Ed25519 key in a 0600 file and reuses it", async () => {
    const dir = makeTempDir("receipts-");
    const first = await ReceiptSigner.load({ keyFile: null, dataDir: dir });
    const path = receiptKeyPath(dir);
    expect(path).toBe(join(dir, "keys", "receipt.jwk.json"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(first.alg).toBe("EdDSA");
    const again = await ReceiptSigner.load({ keyFile: null, dataDir: dir });
    expect(again.kid).toBe(first.kid);
    expect(again.jwks()).toEqual(first.jwks());
  });

  it("publishes only the public key, with kid (RFC 7638 thumbprint), alg and use", async () => {
    const signer = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    const { keys } = signer.jwks();
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).not.toHaveProperty("d");
    expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    expect(key).toMatchObject({ alg: "EdDSA", use: "sig", kid: signer.kid });
    expect(await calculateJwkThumbprint(key)).toBe(signer.kid);
  });

  it("signs a compact JWS that verifies against its JWKS", async () => {
    const signer = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    const jws = await signer.sign(payload, "consent-receipt+jwt");
    const jwks = createLocalJWKSet(signer.jwks());
    const { protectedHeader, payload: bytes } = await compactVerify(jws, jwks);
    expect(protectedHeader).toEqual({ alg: "EdDSA", kid: signer.kid, typ: "consent-receipt+jwt" });
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(payload);
    expect((await jwtVerify(jws, jwks)).payload).toEqual(payload);
    expect((await signer.verify(jws)).payload).toEqual(payload);
  });

  it("yields the identical JWS when signing the same payload twice", async () => {
    const signer = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    expect(await signer.sign(payload, "x")).toBe(await signer.sign({ ...payload }, "x"));
  });

  it("has a tampered JWS fail verification", async () => {
    const signer = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    const [h, , s] = (await signer.sign(payload, "x")).split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, piiPrincipalId: "bob" })).toString("base64url")}.${s}`;
    await expect(compactVerify(forged, createLocalJWKSet(signer.jwks()))).rejects.toThrow();
    await expect(signer.verify(forged)).rejects.toThrow();
  });

  it("refuses a JWS from another signer", async () => {
    const a = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    const b = await ReceiptSigner.load({ keyFile: null, dataDir: makeTempDir("receipts-") });
    await expect(a.verify(await b.sign(payload, "x"))).rejects.toThrow();
  });
});

describe("ReceiptSigner.load with RECEIPT_KEY_FILE", () => {
  async function keyFile(jwk: object): Promise<string> {
    const file = join(makeTempDir("receipts-"), "receipt-key.json");
    writeFileSync(file, JSON.stringify(jwk));
    return file;
  }

  it("signs ES256 with an EC P-256 private JWK, and writes no key of its own", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const dir = makeTempDir("receipts-");
    const signer = await ReceiptSigner.load({ keyFile: await keyFile(await exportJWK(privateKey)), dataDir: dir });
    expect(signer.alg).toBe("ES256");
    const key = signer.jwks().keys[0]!;
    expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(key).not.toHaveProperty("d");
    const jws = await signer.sign(payload, "ledger-head+jwt");
    const { protectedHeader } = await compactVerify(jws, createLocalJWKSet(signer.jwks()));
    expect(protectedHeader.alg).toBe("ES256");
    expect(() => statSync(receiptKeyPath(dir))).toThrow();
  });

  it("makes byte for byte the JWS jose's CompactSign makes with the same Ed25519 key, non-ASCII text included", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = await exportJWK(privateKey);
    const signer = await ReceiptSigner.load({ keyFile: await keyFile(jwk), dataDir: makeTempDir("receipts-") });
    const text = { ...payload, piiControllers: [{ piiController: "中電クラビス株式会社" }], note: "\u2028 \ud83d\ude00 \"quoted\"" };
    const byJose = await new CompactSign(new TextEncoder().encode(JSON.stringify(text)))
      .setProtectedHeader({ alg: "EdDSA", kid: signer.kid, typ: "consent-receipt+jwt" })
      .sign(await importJWK(jwk, "EdDSA"));
    expect(await signer.sign(text, "consent-receipt+jwt")).toBe(byJose);
  });

  it("signs ES256 as r || s (64 bytes), which jose verifies, and each signature differs", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const signer = await ReceiptSigner.load({ keyFile: await keyFile(await exportJWK(privateKey)), dataDir: makeTempDir("receipts-") });
    const [a, b] = [await signer.sign(payload, "x"), await signer.sign(payload, "x")];
    expect(Buffer.from(a.split(".")[2]!, "base64url")).toHaveLength(64);
    expect(a).not.toBe(b);
    for (const jws of [a, b]) {
      const { payload: bytes } = await compactVerify(jws, createLocalJWKSet(signer.jwks()), { algorithms: ["ES256"] });
      expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(payload);
    }
  });

  it("accepts an OKP Ed25519 private JWK", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const signer = await ReceiptSigner.load({ keyFile: await keyFile(await exportJWK(privateKey)), dataDir: makeTempDir("receipts-") });
    expect(signer.alg).toBe("EdDSA");
  });

  it.each([
    ["a public key only", async () => exportJWK((await generateKeyPair("ES256")).publicKey)],
    ["an RSA key", async () => exportJWK((await generateKeyPair("RS256", { extractable: true })).privateKey)],
    ["a P-384 key", async () => exportJWK((await generateKeyPair("ES384", { extractable: true })).privateKey)],
    ["a secret", async () => ({ kty: "oct", k: "c2VjcmV0" })],
  ])("refuses %s clearly", async (_name, make) => {
    const file = await keyFile(await make());
    await expect(ReceiptSigner.load({ keyFile: file, dataDir: makeTempDir("receipts-") })).rejects.toThrow(
      /RECEIPT_KEY_FILE .* must hold an EC P-256 or OKP Ed25519 private JWK/,
    );
  });

  it("refuses a missing, unreadable or non-JSON file, naming RECEIPT_KEY_FILE", async () => {
    await expect(ReceiptSigner.load({ keyFile: join(makeTempDir("receipts-"), "nope.json"), dataDir: makeTempDir("receipts-") })).rejects.toThrow(
      /RECEIPT_KEY_FILE .* does not exist/,
    );
    const file = join(makeTempDir("receipts-"), "bad.json");
    writeFileSync(file, "-----BEGIN PRIVATE KEY-----");
    await expect(ReceiptSigner.load({ keyFile: file, dataDir: makeTempDir("receipts-") })).rejects.toThrow(/RECEIPT_KEY_FILE .*not JSON/);
    if (process.getuid?.() !== 0) {
      chmodSync(file, 0o000);
      await expect(ReceiptSigner.load({ keyFile: file, dataDir: makeTempDir("receipts-") })).rejects.toThrow(/RECEIPT_KEY_FILE/);
    }
  });

  it("refuses a corrupt private key", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = await exportJWK(privateKey);
    const file = await keyFile({ ...jwk, x: jwk.y, y: jwk.x });
    await expect(ReceiptSigner.load({ keyFile: file, dataDir: makeTempDir("receipts-") })).rejects.toThrow(/RECEIPT_KEY_FILE/);
  });

  it("refuses a private key that does not match its public key", async () => {
    const a = await exportJWK((await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })).privateKey);
    const b = await exportJWK((await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })).privateKey);
    const file = await keyFile({ ...a, x: b.x });
    await expect(ReceiptSigner.load({ keyFile: file, dataDir: makeTempDir("receipts-") })).rejects.toThrow(/RECEIPT_KEY_FILE .*(cannot be imported|does not match)/);
  });
});
