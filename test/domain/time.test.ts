// RFC 3339 at the edges: what parseRfc3339 accepts, what it refuses, and the instant it reads.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { daysInMonth, parseRfc3339, toIso, withIsoInstants } from "../../src/domain/time.js";

const NOON = Date.UTC(2023, 5, 15, 12, 0, 0);

describe("parseRfc3339 reads", () => {
  it.each([
    ["a UTC instant with Z", "2023-06-15T12:00:00Z", NOON],
    ["a lower-case t and z", "2023-06-15t12:00:00z", NOON],
    ["a space for the T", "2023-06-15 12:00:00Z", NOON],
    ["a positive offset as that many hours ahead of UTC", "2023-06-15T14:00:00+02:00", NOON],
    ["a negative offset with minutes", "2023-06-15T06:30:00-05:30", NOON],
    ["an offset of -00:00 as UTC", "2023-06-15T12:00:00-00:00", NOON],
    ["the largest offsets", "2023-06-16T11:59:00+23:59", NOON],
    ["milliseconds", "2023-06-15T12:00:00.123Z", NOON + 123],
    ["one fractional digit as tenths", "2023-06-15T12:00:00.1Z", NOON + 100],
    ["two fractional digits as hundredths", "2023-06-15T12:00:00.25Z", NOON + 250],
    ["nine fractional digits, truncated to the millisecond", "2023-06-15T12:00:00.987654321Z", NOON + 987],
    ["the last second of a day", "2023-06-15T23:59:59Z", Date.UTC(2023, 5, 15, 23, 59, 59)],
    ["the first instant of a day", "2023-06-15T00:00:00Z", Date.UTC(2023, 5, 15)],
    ["hours and minutes below their limits", "2023-06-15T22:58:58Z", Date.UTC(2023, 5, 15, 22, 58, 58)],
    ["29 February of a leap year", "2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)],
    ["29 February of a year divisible by 400", "2000-02-29T00:00:00Z", Date.UTC(2000, 1, 29)],
    ["31 December", "2023-12-31T00:00:00Z", Date.UTC(2023, 11, 31)],
    ["1 January", "2023-01-01T00:00:00Z", Date.UTC(2023, 0, 1)],
    ["a year below 100 as that year, not 19xx", "0023-06-15T12:00:00Z", Date.UTC(2023, 5, 15, 12) - 2000 * 365.2425 * 86_400_000],
  ])("%s", (_why, s, expected) => {
    expect(parseRfc3339(s)).toBe(expected);
  });

  it("every instant toIso writes, back to the same instant", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (t) => {
        expect(parseRfc3339(toIso(t))).toBe(t);
      }),
    );
  });
});

describe("parseRfc3339 refuses", () => {
  it.each([
    ["no offset", "2023-06-15T12:00:00"],
    ["a date alone", "2023-06-15"],
    ["text before the date", "x2023-06-15T12:00:00Z"],
    ["text after the offset", "2023-06-15T12:00:00Zx"],
    ["a three-digit year", "023-06-15T12:00:00Z"],
    ["a five-digit year", "12023-06-15T12:00:00Z"],
    ["a one-digit month", "2023-6-15T12:00:00Z"],
    ["a one-digit day", "2023-06-5T12:00:00Z"],
    ["a one-digit hour", "2023-06-15T2:00:00Z"],
    ["a one-digit minute", "2023-06-15T12:0:00Z"],
    ["a one-digit second", "2023-06-15T12:00:0Z"],
    ["another separator than T or space", "2023-06-15X12:00:00Z"],
    ["slashes in the date", "2023/06/15T12:00:00Z"],
    ["a dot without digits", "2023-06-15T12:00:00.Z"],
    ["ten fractional digits", "2023-06-15T12:00:00.1234567890Z"],
    ["a comma for the fraction", "2023-06-15T12:00:00,5Z"],
    ["an offset without minutes", "2023-06-15T12:00:00+02"],
    ["an offset without a colon", "2023-06-15T12:00:00+0200"],
    ["an offset with one-digit hours", "2023-06-15T12:00:00+2:00"],
    ["an offset with one-digit minutes", "2023-06-15T12:00:00+02:0"],
    ["an offset without a sign", "2023-06-15T12:00:00 02:00"],
    ["an offset of 24 hours", "2023-06-15T12:00:00+24:00"],
    ["an offset of 60 minutes", "2023-06-15T12:00:00+02:60"],
    ["month 00", "2023-00-15T12:00:00Z"],
    ["month 13", "2023-13-15T12:00:00Z"],
    ["day 00", "2023-06-00T12:00:00Z"],
    ["31 June", "2023-06-31T12:00:00Z"],
    ["30 February", "2024-02-30T00:00:00Z"],
    ["29 February of a common year", "2023-02-29T00:00:00Z"],
    ["29 February of a century not divisible by 400", "1900-02-29T00:00:00Z"],
    ["32 January", "2023-01-32T00:00:00Z"],
    ["hour 24", "2023-06-15T24:00:00Z"],
    ["minute 60", "2023-06-15T23:60:00Z"],
    ["second 60 (no leap seconds)", "2023-06-15T23:59:60Z"],
    ["an empty string", ""],
  ])("%s", (_why, s) => {
    expect(parseRfc3339(s)).toBeUndefined();
  });
});

describe("daysInMonth", () => {
  it("gives each month of a common year its length", () => {
    expect(Array.from({ length: 12 }, (_, i) => daysInMonth(2023, i + 1))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
  });

  it("gives February 29 days in years divisible by 4, except centuries not divisible by 400", () => {
    expect([2024, 2000, 1900, 2100, 2023].map((y) => daysInMonth(y, 2))).toEqual([29, 29, 28, 28, 28]);
  });

  it("agrees with the calendar for the last day of every month of every year", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        const d = new Date(0);
        d.setUTCFullYear(year, month, 0);
        expect(daysInMonth(year, month)).toBe(d.getUTCDate());
      }),
    );
  });
});

describe("toIso", () => {
  it("writes UTC with milliseconds", () => {
    expect(toIso(NOON + 7)).toBe("2023-06-15T12:00:00.007Z");
  });
});

describe("withIsoInstants", () => {
  it("writes the instant members of event data as RFC 3339 and leaves every other member as it is", () => {
    const data = { expiresAt: NOON, effectiveAt: NOON + 1, dueAt: NOON + 2, occurredAt: NOON, version: 3, note: null, evidence: { sealed: "x" } };
    expect(withIsoInstants(data)).toEqual({
      expiresAt: "2023-06-15T12:00:00.000Z",
      effectiveAt: "2023-06-15T12:00:00.001Z",
      dueAt: "2023-06-15T12:00:00.002Z",
      occurredAt: NOON,
      version: 3,
      note: null,
      evidence: { sealed: "x" },
    });
  });

  it("leaves an instant member that holds no number (null, already a string) as it is", () => {
    expect(withIsoInstants({ expiresAt: null, dueAt: "2023-06-15T12:00:00Z" })).toEqual({ expiresAt: null, dueAt: "2023-06-15T12:00:00Z" });
  });
});
