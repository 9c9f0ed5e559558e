// Reading one environment variable as a typed setting; any bad value fails fast with a ConfigError
// that names the variable, in one line.

/** A setting the service cannot start with; the message is one line, fit for a start-up log. */
export class ConfigError extends Error {
  static readonly code = "CONFIG_INVALID";
  readonly code = ConfigError.code;
  override readonly name = "ConfigError";
  constructor(message: string) {
    // A multi-line reason would break the one-JSON-object-per-line log.
    super(message.replace(/\s*\n\s*/g, " "));
  }
}

/** A variable's value; undefined when it is not set. */
export type Get = (name: string) => string | undefined;

/** The variables of `env`; an empty variable (e.g. `PORT=` in a compose file) means "not set", not "set to nothing". */
export function reader(env: NodeJS.ProcessEnv): Get {
  return (name) => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
}

export function policyIdSetting(get: Get, name: string, fallback: string): string {
  const v = get(name);
  if (v === undefined || v === "") return fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/.test(v)) throw new ConfigError(`${name} must be a policy id (letters, digits and . _ : @ -, at most 128), got ${JSON.stringify(v)}`);
  return v;
}

/** Comma-separated ISO 3166-1 alpha-2 codes; empty means none. */
export function countryListSetting(get: Get, name: string, fallback: readonly string[]): readonly string[] {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const codes = raw.split(",").map((c) => c.trim().toUpperCase()).filter((c) => c !== "");
  const bad = codes.filter((c) => !/^[A-Z]{2}$/.test(c));
  if (bad.length > 0) throw new ConfigError(`${name} must list ISO 3166-1 alpha-2 country codes separated by commas, got "${bad.join(", ")}"`);
  return codes;
}

export function boolSetting(get: Get, name: string, fallback: boolean): boolean {
  const raw = get(name);
  if (raw === undefined) return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** An RFC 3339 instant with a zone (`2020-01-01T00:00:00Z`), as epoch ms; null when unset. */
export function instantSetting(get: Get, name: string): number | null {
  const raw = get(name);
  if (raw === undefined) return null;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) || Number.isNaN(ms))
    throw new ConfigError(`${name} must be an RFC 3339 instant such as 2020-01-01T00:00:00Z, got "${raw}"`);
  return ms;
}

export function intSetting(get: Get, name: string, fallback: number, min: number, max: number): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  // Number("1e3") or parseInt("12abc") would quietly accept typos.
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
