// C2SP signed notes and tlog checkpoints on their own: a note round-trips, and any altered key name,
// key id, signature or body line is refused with its reason.
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCheckpoint, parseCheckpoint } from "../../../src/log/checkpoint/checkpoint.js";
import {
  ED25519_TYPE,
  NoteError,
  type NoteSigner,
  checkKeyName,
  decodeBase64,
  formatVerifierKey,
  keyIdOf,
  openNote,
  parseVerifierKey,
  signNote,
} from "../../../src/log/checkpoint/signed-note.js";

function signerNamed(name: string): NoteSigner {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { name, publicKey: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"), sign: (m) => sign(null, m, privateKey) };
}

const ORIGIN = "ledger.example/log";
const signer = signerNamed(ORIGIN);
const other = signerNamed("other.example/witness");
// Computed inside the tests, never at load: a mutant that makes these throw must fail a test, not the file's import.
const key = () => parseVerifierKey(formatVerifierKey(signer.name, signer.publicKey));
const root = createHash("sha256").update("root").digest();

/** The NoteError's message; "ok" with the result when none is thrown; any other throw fails the test. */
function reason(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof NoteError)) throw e;
    expect(e.name).toBe("NoteError");
    return e.message;
  }
}

describe("key names", () => {
  it("are non-empty, without spaces, plus signs or control characters", () => {
    for (const ok of ["a", ORIGIN, "example.com/log-1", "日本語", "a-b_c.d/e:f"]) expect(reason(() => checkKeyName(ok))).toBe("ok");
    for (const bad of ["", " ", "a b", "a+b", "a\tb", "a\nb", "a\u0000b", "a\u001fb", "a\u007fb", "tail ", "+lead", "a\u00a0b"])
      expect(reason(() => checkKeyName(bad))).toBe(`"${bad}" is not a valid key name`);
  });
});

describe("verifier keys", () => {
  it("read back what formatVerifierKey writes, the key id the first 4 bytes of SHA-256(name, 0x0A, 0x01, key())", () => {
    const text = formatVerifierKey(signer.name, signer.publicKey);
    const [name, id, b64] = text.split("+", 3);
    expect(name).toBe(ORIGIN);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(text).toBe(`${ORIGIN}+${keyIdOf(ORIGIN, signer.publicKey).toString("hex")}+${Buffer.concat([Buffer.of(1), signer.publicKey]).toString("base64")}`);
    expect(b64!.length).toBeGreaterThan(0);
    expect(key()).toEqual({ name: ORIGIN, keyId: keyIdOf(ORIGIN, signer.publicKey), publicKey: Buffer.from(signer.publicKey) });
    expect(ED25519_TYPE).toBe(1);
    expect(keyIdOf(ORIGIN, signer.publicKey)).toHaveLength(4);
    // C2SP's example key: name, id and key as published.
    const example = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    expect(parseVerifierKey(example).keyId.toString("hex")).toBe("c74f20a3");
    expect(formatVerifierKey("PeterNeumann", parseVerifierKey(example).publicKey)).toBe(example);
    expect(parseVerifierKey(`  ${example}\n`).name).toBe("PeterNeumann");
  });

  it("refuse a bad name, id or key, each with its reason", () => {
    const good = formatVerifierKey(signer.name, signer.publicKey);
    const [, id, k] = good.split("+") as [string, string, string];
    const keyB64 = good.slice(good.indexOf("+", good.indexOf("+") + 1) + 1);
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}`))).toBe("a verifier key reads <name>+<key id>+<key>");
    expect(reason(() => parseVerifierKey("just-a-name"))).toBe("a verifier key reads <name>+<key id>+<key>");
    expect(reason(() => parseVerifierKey(`+${id}+${keyB64}`))).toBe('"" is not a valid key name');
    expect(reason(() => parseVerifierKey(`other+${id}+${keyB64}`))).toBe("the verifier key's id does not match its name and key");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id.toUpperCase()}+${keyB64}`))).toBe("the verifier key's id is not 8 hex digits");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}0+${keyB64}`))).toBe("the verifier key's id is not 8 hex digits");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+x${id}+${keyB64}`))).toBe("the verifier key's id is not 8 hex digits");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id.slice(1)}+${keyB64}`))).toBe("the verifier key's id is not 8 hex digits");
    const flippedId = id.slice(0, 7) + (Number.parseInt(id[7]!, 16) ^ 1).toString(16);
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${flippedId}+${keyB64}`))).toBe("the verifier key's id does not match its name and key");
    const typed = (type: number, bytes: Uint8Array) => Buffer.concat([Buffer.of(type), bytes]).toString("base64");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}+${typed(2, signer.publicKey)}`))).toBe("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}+${typed(1, signer.publicKey.subarray(1))}`))).toBe(
      "the verifier key is not an Ed25519 key (type 0x01, 32 bytes)",
    );
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}+${typed(1, Buffer.concat([signer.publicKey, Buffer.of(0)]))}`))).toBe(
      "the verifier key is not an Ed25519 key (type 0x01, 32 bytes)",
    );
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}+${keyB64}!`))).toBe("the verifier key is not base64");
    expect(reason(() => parseVerifierKey(`${ORIGIN}+${id}+`))).toBe("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)");
    expect(reason(() => formatVerifierKey("bad name", signer.publicKey))).toBe('"bad name" is not a valid key name');
    expect(k.length).toBeGreaterThan(0);
  });

  it("keep a key whose base64 holds a plus sign whole", () => {
    // Search for a key whose base64 (after the type byte) contains "+": the parser must rejoin it.
    for (let i = 0; i < 200; i++) {
      const s = signerNamed(`k${i}`);
      const text = formatVerifierKey(s.name, s.publicKey);
      if (text.split("+").length > 3) {
        expect(parseVerifierKey(text).publicKey).toEqual(Buffer.from(s.publicKey));
        return;
      }
    }
    throw new Error("no key with a plus sign in 200 tries");
  });
});

describe("strict base64", () => {
  it("takes padded standard base64 only", () => {
    expect(decodeBase64("", "x")).toEqual(Buffer.alloc(0));
    expect(decodeBase64("YQ==", "x")).toEqual(Buffer.from("a"));
    expect(decodeBase64("YWI=", "x")).toEqual(Buffer.from("ab"));
    expect(decodeBase64("YWJj", "x")).toEqual(Buffer.from("abc"));
    expect(decodeBase64("+/+/", "x")).toEqual(Buffer.from([0xfb, 0xff, 0xbf]));
    for (const bad of ["YQ", "YQ=", "YWI", "Y", "YW Jj", "YWJj\n", "-_-_", "YQ==YQ==", "=YWJ", "YWJj=", "Y===", "ab$c"])
      expect(reason(() => decodeBase64(bad, "the thing"))).toBe("the thing is not base64");
  });
});

describe("signed notes", () => {
  const text = `${ORIGIN}\n7\n${root.toString("base64")}\n`;

  it("round-trip: the text, a blank line, one signature line by the key's name with key id and signature", () => {
    const note = signNote(text, signer);
    const [body, sigs] = [note.slice(0, note.indexOf("\n\n") + 1), note.slice(note.indexOf("\n\n") + 2)];
    expect(body).toBe(text);
    const m = /^— (\S+) (\S+)\n$/u.exec(sigs)!;
    expect(m[1]).toBe(ORIGIN);
    const blob = Buffer.from(m[2]!, "base64");
    expect(blob).toHaveLength(68);
    expect(blob.subarray(0, 4)).toEqual(key().keyId);
    expect(openNote(note, key())).toBe(text);
  });

  it("fast-check: any text of printable lines round-trips", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[^\u0000-\u001f\u007f]*$/), { minLength: 1, maxLength: 4 }), (lines) => {
        const t = `${lines.join("\n")}\n`;
        expect(openNote(signNote(t, signer), key())).toBe(t);
      }),
      { numRuns: 50 },
    );
  });

  it("fast-check: any changed character of the note is refused", () => {
    const note = signNote(text, signer);
    fc.assert(
      fc.property(fc.nat({ max: note.length - 1 }), fc.integer({ min: 1, max: 0xff }), (at, delta) => {
        const code = note.charCodeAt(at);
        const changed = String.fromCharCode(code === 0x2014 ? 0x2013 : (code + delta) % 0x80 || 0x41);
        // The base64 character before the padding also carries two unused bits: changing only those keeps the signature.
        if (changed === note[at] || at === note.lastIndexOf("=") - 1) return;
        const bad = note.slice(0, at) + changed + note.slice(at + 1);
        expect(reason(() => openNote(bad, key()))).not.toBe("ok");
      }),
      { numRuns: 300 },
    );
  });

  it("refuse a body whose any line was altered, with the signature not verifying", () => {
    const note = signNote(text, signer);
    const lines = text.split("\n");
    for (let i = 0; i < lines.length - 1; i++) {
      const altered = lines.map((l, j) => (j === i ? `${l}x` : l)).join("\n");
      expect(reason(() => openNote(altered + note.slice(text.length), key()))).toBe(`the signature by ${ORIGIN} does not verify`);
    }
  });

  it("refuse a signature line under another name, another key id, or a cut or altered signature", () => {
    const note = signNote(text, signer);
    const line = note.slice(text.length + 1, -1);
    const blob = Buffer.from(line.split(" ")[2]!, "base64");
    const withLine = (l: string) => `${text}\n${l}\n`;
    const noSignature = `the note carries no signature by ${ORIGIN}+${key().keyId.toString("hex")}`;
    expect(reason(() => openNote(withLine(`— other.example ${blob.toString("base64")}`), key()))).toBe(noSignature);
    const otherId = Buffer.from(blob);
    otherId[0]! ^= 1;
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${otherId.toString("base64")}`), key()))).toBe(noSignature);
    const badSig = Buffer.from(blob);
    badSig[40]! ^= 1;
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${badSig.toString("base64")}`), key()))).toBe(`the signature by ${ORIGIN} does not verify`);
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${blob.subarray(0, 67).toString("base64")}`), key()))).toBe(`the signature by ${ORIGIN} does not verify`);
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${Buffer.concat([blob, Buffer.of(0)]).toString("base64")}`), key()))).toBe(
      `the signature by ${ORIGIN} does not verify`,
    );
    // Shorter than a key id: not this key's line.
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${blob.subarray(0, 3).toString("base64")}`), key()))).toBe(noSignature);
    expect(reason(() => openNote(withLine(`— ${ORIGIN} ${blob.subarray(0, 4).toString("base64")}`), key()))).toBe(`the signature by ${ORIGIN} does not verify`);
    expect(reason(() => openNote(withLine(`— ${ORIGIN} not*base64`), key()))).toBe("a signature is not base64");
    for (const l of [`- ${ORIGIN} ${blob.toString("base64")}`, `— ${ORIGIN}`, `—  ${ORIGIN} x`, `— ${ORIGIN} ${blob.toString("base64")} extra`, `x— ${ORIGIN} AAAA`, " "])
      expect(reason(() => openNote(withLine(l), key()))).toBe("a signature line reads — <name> <base64 signature>");
  });

  it("take a co-signed note whichever line comes first, and a key another log names differently is no match", () => {
    const mine = signNote(text, signer);
    const theirs = signNote(text, other);
    const mineLine = mine.slice(text.length + 1);
    const theirLine = theirs.slice(text.length + 1);
    expect(openNote(`${text}\n${theirLine}${mineLine}`, key())).toBe(text);
    expect(openNote(`${text}\n${mineLine}${theirLine}`, key())).toBe(text);
    const otherKey = parseVerifierKey(formatVerifierKey(other.name, other.publicKey));
    expect(openNote(`${text}\n${theirLine}${mineLine}`, otherKey)).toBe(text);
    expect(reason(() => openNote(mine, otherKey))).toBe(`the note carries no signature by ${other.name}+${otherKey.keyId.toString("hex")}`);
    // The same key under another name has another key id: a renamed key verifies nothing.
    const renamed = { ...key(), name: "renamed.example" };
    expect(reason(() => openNote(mine, renamed))).toBe(`the note carries no signature by renamed.example+${key().keyId.toString("hex")}`);
    const renamedWithId = { ...key(), name: "renamed.example", keyId: keyIdOf("renamed.example", key().publicKey) };
    expect(reason(() => openNote(mine.replace(`— ${ORIGIN} `, "— renamed.example "), renamedWithId))).toBe(
      `the note carries no signature by renamed.example+${renamedWithId.keyId.toString("hex")}`,
    );
  });

  it("refuse notes without the blank line, the final newline or a signature", () => {
    const note = signNote(text, signer);
    expect(reason(() => openNote(note.replace("\n\n", "\n"), key()))).toBe("a note has a blank line between its text and its signatures");
    expect(reason(() => openNote(note.slice(0, -1), key()))).toBe("a note ends with a newline");
    expect(reason(() => openNote(`${text}\n`, key()))).toBe("the note is not signed");
    expect(reason(() => openNote(`\n\n${note.slice(text.length + 1)}`, key()))).toBe(`the signature by ${ORIGIN} does not verify`);
    expect(reason(() => openNote(`x\u0001\n\n${note.slice(text.length + 1)}`, key()))).toBe("a note's text holds a control character");
  });

  it("sign only text that ends with a newline and holds no control character, under a valid key name", () => {
    expect(reason(() => signNote("no newline", signer))).toBe("a note's text ends with a newline");
    expect(reason(() => signNote("", signer))).toBe("a note's text ends with a newline");
    for (const c of ["\u0000", "\t", "\u000b", "\r", "\u001f", "\u007f"]) expect(reason(() => signNote(`a${c}b\n`, signer))).toBe("a note's text holds a control character");
    expect(reason(() => signNote("a\nb\n", signer))).toBe("ok");
    expect(reason(() => signNote("a\u0080b\n", signer))).toBe("ok");
    expect(reason(() => signNote("a\u0020b\n", signer))).toBe("ok");
    expect(reason(() => signNote("x\n", { ...signer, name: "bad name" }))).toBe('"bad name" is not a valid key name');
  });
});

describe("checkpoints", () => {
  const body = { origin: ORIGIN, treeSize: 7, root };

  it("write origin, size and base64 root on their own lines, and read them back", () => {
    const t = formatCheckpoint(body);
    expect(t).toBe(`${ORIGIN}\n7\n${root.toString("base64")}\n`);
    expect(parseCheckpoint(t)).toEqual(body);
    expect(parseCheckpoint(formatCheckpoint({ ...body, treeSize: 0 }))).toEqual({ ...body, treeSize: 0 });
    expect(parseCheckpoint(formatCheckpoint({ ...body, treeSize: 2 ** 53 - 1 })).treeSize).toBe(2 ** 53 - 1);
    // Extension lines after the root are allowed and left out.
    expect(parseCheckpoint(`${t}ext one\next two\n`)).toEqual(body);
  });

  it("fast-check: any origin line and size round-trip through a signed note", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[^\u0000-\u001f\u007f]+$/), fc.nat({ max: 2 ** 53 - 1 }), (origin, treeSize) => {
        const c = { origin, treeSize, root };
        expect(parseCheckpoint(openNote(signNote(formatCheckpoint(c), signer), key()))).toEqual(c);
      }),
      { numRuns: 50 },
    );
  });

  it("refuse to write a bad origin, size or root", () => {
    expect(reason(() => formatCheckpoint({ ...body, origin: "" }))).toBe("a checkpoint's origin is one non-empty line");
    expect(reason(() => formatCheckpoint({ ...body, origin: "a\nb" }))).toBe("a checkpoint's origin is one non-empty line");
    expect(reason(() => formatCheckpoint({ ...body, origin: "a\rb" }))).toBe("a checkpoint's origin is one non-empty line");
    expect(reason(() => formatCheckpoint({ ...body, treeSize: -1 }))).toBe("-1 is not a tree size");
    expect(reason(() => formatCheckpoint({ ...body, treeSize: 1.5 }))).toBe("1.5 is not a tree size");
    expect(reason(() => formatCheckpoint({ ...body, treeSize: 2 ** 53 }))).toBe(`${2 ** 53} is not a tree size`);
    expect(reason(() => formatCheckpoint({ ...body, root: root.subarray(1) }))).toBe("a checkpoint's root is a SHA-256 hash");
    expect(reason(() => formatCheckpoint({ ...body, root: Buffer.concat([root, root]) }))).toBe("a checkpoint's root is a SHA-256 hash");
  });

  it("refuse to read a bad checkpoint, each with its reason", () => {
    const r = root.toString("base64");
    const shape = "a checkpoint has an origin, a tree size and a root, each on a line";
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n${r}`))).toBe(shape);
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n`))).toBe(shape);
    expect(reason(() => parseCheckpoint(""))).toBe(shape);
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n${r}\nextension`))).toBe(shape);
    expect(reason(() => parseCheckpoint(`\n7\n${r}\n`))).toBe("the checkpoint has no origin");
    for (const size of ["", "07", "-1", "1.5", "1e3", " 7", "7 ", "x", "9007199254740992", "99999999999999999999"])
      expect(reason(() => parseCheckpoint(`${ORIGIN}\n${size}\n${r}\n`))).toBe("the checkpoint's tree size is not a decimal number");
    expect(parseCheckpoint(`${ORIGIN}\n9007199254740991\n${r}\n`).treeSize).toBe(2 ** 53 - 1);
    expect(parseCheckpoint(`${ORIGIN}\n10\n${r}\n`).treeSize).toBe(10);
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n${r.slice(0, -1)}\n`))).toBe("the checkpoint's root is not base64");
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n${root.subarray(1).toString("base64")}\n`))).toBe("the checkpoint's root is not a SHA-256 hash");
    expect(reason(() => parseCheckpoint(`${ORIGIN}\n7\n\n`))).toBe("the checkpoint's root is not a SHA-256 hash");
  });
});
