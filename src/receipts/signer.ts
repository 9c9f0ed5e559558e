// The key that signs consent receipts and ledger heads, and the JWKS that lets anyone verify them.
import { type KeyObject, createPrivateKey, sign as signBytes } from "node:crypto";
import { join } from "node:path";
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, type CompactJWSHeaderParameters, type JWK } from "jose";
import { loadSigningJwk } from "../keys/jwk-file.js";

export type ReceiptAlg = "EdDSA" | "ES256";

export interface ReceiptSignerOptions {
  /** RECEIPT_KEY_FILE: a private JWK (EC P-256 or OKP Ed25519); null to use a generated key. */
  keyFile: string | null;
  dataDir: string;
}

/** Where the generated receipt key lives under the data folder. */
export const receiptKeyPath = (dataDir: string): string => join(dataDir, "keys", "receipt.jwk.json");

export class ReceiptSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicJwk: JWK,
    readonly kid: string,
    private readonly algorithm: ReceiptAlg,
  ) {}

  /**
   * The signer for RECEIPT_KEY_FILE when given; otherwise an Ed25519 key generated once under
   * `<dataDir>/keys/receipt.jwk.json` (0600). Ed25519 by default because its signatures are
   * deterministic: the same receipt always yields the same JWS.
   */
  static async load(opts: ReceiptSignerOptions): Promise<ReceiptSigner> {
    const { jwk, source } = await loadSigningJwk({ keyFile: opts.keyFile, setting: "RECEIPT_KEY_FILE", generatedPath: receiptKeyPath(opts.dataDir), label: "receipt key file" });
    const alg = receiptAlgOf(jwk);
    if (!alg) throw new Error(`${source} must hold an EC P-256 or OKP Ed25519 private JWK (with "d")`);
    const publicJwk: JWK =
      alg === "ES256" ? { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! } : { kty: "OKP", crv: "Ed25519", x: jwk.x! };
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: { ...publicJwk, d: jwk.d! }, format: "jwk" });
    } catch (e) {
      throw new Error(`${source} holds a key that cannot be imported: ${(e as Error).message}`);
    }
    const signer = new ReceiptSigner(privateKey, publicJwk, await calculateJwkThumbprint(publicJwk), alg);
    // A private part that does not match its public part would sign receipts nobody can verify.
    try {
      await signer.verify(await signer.sign({ probe: true }, "probe"));
    } catch {
      throw new Error(`${source}: the private key does not match its public key`);
    }
    return signer;
  }

  /** "EdDSA" for Ed25519 keys, "ES256" for P-256 keys. */
  get alg(): ReceiptAlg {
    return this.algorithm;
  }

  /** The public key set served at /.well-known/jwks.json; never carries private members. */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk, kid: this.kid, alg: this.algorithm, use: "sig" }] };
  }

  /**
   * A compact JWS (RFC 7515) over the JSON payload, header `{ alg, kid, typ }`: the bytes jose's
   * CompactSign makes, signed by node:crypto directly (WebCrypto's per-call overhead cost more than
   * the Ed25519 signature itself) on libuv's thread pool, off the event loop. ES256 signatures are
   * r || s (IEEE P1363), as JWS requires.
   */
  async sign(payload: Record<string, unknown>, typ: string): Promise<string> {
    const header = base64url(JSON.stringify({ alg: this.algorithm, kid: this.kid, typ }));
    const signingInput = `${header}.${base64url(JSON.stringify(payload))}`;
    const data = Buffer.from(signingInput, "ascii");
    const signature = await new Promise<Buffer>((resolve, reject) => {
      const done = (e: Error | null, s: Buffer) => (e ? reject(e) : resolve(s));
      if (this.algorithm === "EdDSA") signBytes(null, data, this.privateKey, done);
      else signBytes("sha256", data, { key: this.privateKey, dsaEncoding: "ieee-p1363" }, done);
    });
    return `${signingInput}.${signature.toString("base64url")}`;
  }

  /** Checks a JWS made by this signer's key (e.g. for `cli verify`); throws when it does not verify. */
  async verify(jws: string): Promise<{ payload: Record<string, unknown>; header: CompactJWSHeaderParameters }> {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(this.jwks()), {
      algorithms: [this.algorithm],
    });
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("JWS payload is not a JSON object");
    return { payload: parsed as Record<string, unknown>, header: protectedHeader };
  }
}

function receiptAlgOf(jwk: JWK): ReceiptAlg | undefined {
  if (typeof jwk.d !== "string" || typeof jwk.x !== "string") return undefined;
  if (jwk.kty === "EC" && jwk.crv === "P-256" && typeof jwk.y === "string") return "ES256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  return undefined;
}

const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
