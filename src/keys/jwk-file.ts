// A private JWK kept in a 0600 file: created once, atomically, and read back on every later start.
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type JWK, exportJWK, generateKeyPair } from "jose";

/**
 * The JWK stored at `path`, or the one `generate` makes, written there first. The file is written
 * under a temporary name and hard-linked into place, so two processes starting together never see a
 * half-written key and both end up using the same one.
 */
export async function loadOrCreateJwkFile(path: string, generate: () => Promise<JWK>): Promise<JWK> {
  const existing = await readJwkFile(path);
  if (existing) return existing;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const jwk = await generate();
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  // writeFile's mode is masked by the umask; make sure nobody else can read a private key.
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path);
    return jwk;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const winner = await readJwkFile(path);
    if (!winner) throw new Error(`key file ${path} vanished while it was being created`);
    return winner;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The JWK in a file; undefined when the file does not exist; an Error naming the file when it is not a JWK. */
export async function readJwkFile(path: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`key file ${path} is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || typeof (parsed as JWK).kty !== "string") {
    throw new Error(`key file ${path} does not hold a JWK`);
  }
  return parsed as JWK;
}

/**
 * The private JWK a signing key is configured with: read from `keyFile` (named by `setting` in
 * errors) when given, else an Ed25519 key generated once at `generatedPath`. `source` names where it
 * came from, for the caller's own checks.
 */
export async function loadSigningJwk(opts: { keyFile: string | null; setting: string; generatedPath: string; label: string }): Promise<{ jwk: JWK; source: string }> {
  if (opts.keyFile) {
    const source = `${opts.setting} ${opts.keyFile}`;
    let read: JWK | undefined;
    try {
      read = await readJwkFile(opts.keyFile);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    if (!read) throw new Error(`${source} does not exist`);
    return { jwk: read, source };
  }
  const jwk = await loadOrCreateJwkFile(opts.generatedPath, async () => exportJWK((await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })).privateKey));
  return { jwk, source: `${opts.label} ${opts.generatedPath}` };
}
