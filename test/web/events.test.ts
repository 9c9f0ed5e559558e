// The pages' words: dates in Japan time with the zone named, events as Japanese sentences (known and
// unknown types), Japanese-only catalogue text, a subject's state at an instant, and saves from a history.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeEvent, eventSentence, nameBook } from "../../src/web/common/events.js";
import { consentStatusText, formatDate, formatDateTime, japaneseText } from "../../src/web/common/format.js";
import { pointInTime } from "../../src/web/console/point-in-time.js";
import { savedChoices } from "../../src/web/preferences/saved-choices.js";

const names = nameBook([
  { id: "clavis-privacy", title: "プライバシーポリシー", versions: [{ purposes: [{ id: "location", title: "位置情報の利用" }, { id: "ads", title: "広告" }] }] },
]);

describe("dates", () => {
  it("are written in Japan time with the zone named", () => {
    expect(formatDateTime("2026-12-06T05:02:00Z")).toBe("2026年12月6日 14:02 JST");
    // 15:30 UTC is already the next day in Japan.
    expect(formatDate("2026-12-31T15:30:00Z")).toBe("2027年1月1日");
    expect(formatDateTime(null)).toBe("—");
  });

  it("property: every instant reads as a JST date and time", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }), (d) => {
        expect(formatDateTime(d.toISOString())).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} JST$/);
      }),
    );
  });
});

describe("events as sentences", () => {
  const at = "2026-12-06T05:02:00Z";

  it("name purposes and policies by their titles, never by id", () => {
    expect(eventSentence({ type: "ConsentGranted", occurredAt: at, data: { policyId: "clavis-privacy", version: 1, purposeId: "location", expiresAt: null } }, names)).toBe(
      "2026年12月6日 14:02 JST、「位置情報の利用」に同意しました（第1版）",
    );
    expect(describeEvent({ type: "PolicyAccepted", occurredAt: at, data: { policyId: "clavis-privacy", version: 2 } }, names)).toBe("「プライバシーポリシー」第2版に同意しました");
    expect(describeEvent({ type: "ConsentWithdrawn", occurredAt: at, data: { policyId: "clavis-privacy", version: 1, purposeId: "ads" } }, names)).toBe("「広告」への同意を撤回しました（第1版）");
    expect(describeEvent({ type: "ProcessingSuspended", occurredAt: at, data: { purposeIds: ["ads"] } }, names)).toBe("「広告」での利用を停止しました");
  });

  it("say what a data request went through", () => {
    expect(describeEvent({ type: "DataRequestOpened", occurredAt: at, data: { requestId: "r", kind: "DELETION", dueAt: "2026-12-20T00:00:00Z" } })).toBe("消去の請求を受け付けました（回答期限 2026年12月20日）");
    expect(describeEvent({ type: "DataRequestClosed", occurredAt: at, data: { requestId: "r", fulfilled: false, officerNote: "本人確認ができないため" } })).toBe("請求を却下しました（理由：本人確認ができないため）");
    expect(describeEvent({ type: "DataRequestExtended", occurredAt: at, data: { requestId: "r", days: 10, dueAt: "2026-12-30T00:00:00Z", reason: "調査のため" } })).toContain("10日延長しました");
    // A sealed method (another reader) is not shown; the non-personal label is.
    expect(describeEvent({ type: "DataRequestIdentityVerified", occurredAt: at, data: { requestId: "r", method: { redacted: true }, label: "document" } })).toBe("請求者の本人確認を記録しました（document）");
  });

  it("describe the evidence and announcement events too", () => {
    expect(describeEvent({ type: "NoticeShown", occurredAt: at, data: { policyId: "clavis-privacy", policyVersion: 1, channel: "banner", locale: "ja" } }, names)).toBe(
      "「プライバシーポリシー」第1版の説明を表示しました（banner）",
    );
    expect(describeEvent({ type: "PersonalDataAccessed", occurredAt: at, data: { what: "subjectExport", reason: "開示請求への対応" } })).toBe("開示データ（記録の全体）が閲覧されました（理由：開示請求への対応）");
    expect(describeEvent({ type: "PolicyAnnounced", occurredAt: at, data: { policyId: "clavis-privacy", version: 2, method: "メール" } }, names)).toBe("「プライバシーポリシー」第2版の変更を周知しました（方法：メール）");
  });

  it("property: any event type, with any data, gets a sentence without throwing", () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (type, data) => {
        const s = describeEvent({ type, occurredAt: at, data }, names);
        expect(typeof s).toBe("string");
        expect(s.length).toBeGreaterThan(0);
      }),
    );
    expect(describeEvent({ type: "SomethingNew", occurredAt: at, data: {} })).toBe("種類「SomethingNew」の記録が追加されました");
  });
});

describe("catalogue text on a Japanese page", () => {
  it("drops English-only text and English asides", () => {
    expect(japaneseText("Collecting location information only with consent.")).toBeNull();
    expect(japaneseText("初版 (first version)")).toBe("初版");
    expect(japaneseText("メールマガジンの配信を追加しました（第2版）")).toBe("メールマガジンの配信を追加しました（第2版）");
    expect(japaneseText(null)).toBeNull();
  });

  it("says an OPT_OUT purpose nobody objected to is in use by default", () => {
    expect(consentStatusText("OPT_OUT", "NOT_ASKED", "DEFAULT_OPT_OUT")).toBe("同意（既定）");
    expect(consentStatusText("OPT_IN", "NOT_ASKED", "NOT_GRANTED")).toBe("未同意");
    expect(consentStatusText("OPT_OUT", "NOT_ASKED", "POLICY_NOT_ACCEPTED")).toBe("同意（既定）");
    // Not in use because the person was erased: not "consented" by default.
    expect(consentStatusText("OPT_OUT", "NOT_ASKED", "SUBJECT_ERASED")).toBe("—");
    expect(consentStatusText("OPT_IN", "GRANTED", "GRANTED")).toBe("同意済み");
  });
});

describe("a subject at an instant", () => {
  const ev = (type: string, occurredAt: string, recordedAt = occurredAt, data: unknown = {}) => ({ type, occurredAt, recordedAt, data });
  const history = [
    ev("PolicyAccepted", "2026-01-01T00:00:00Z"),
    ev("ProcessingSuspended", "2026-02-01T00:00:00Z"),
    ev("ProcessingResumed", "2026-03-01T00:00:00Z"),
    ev("SubjectLeft", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
  ];

  it("counts only what had happened and was recorded by then, and derives the status from it", () => {
    expect(pointInTime(history, "2026-02-15T00:00:00Z", null)).toMatchObject({ status: "SUSPENDED", known: history.slice(0, 2) });
    expect(pointInTime(history, null, null).status).toBe("LEFT");
    // Left on 1 April, but recorded only on 1 May: as known on 15 April, still in use.
    expect(pointInTime(history, null, "2026-04-15T00:00:00Z").status).toBe("ACTIVE");
    expect(pointInTime(history, "2025-12-31T00:00:00Z", null).known).toEqual([]);
    // A suspension of some purposes only leaves the subject active.
    expect(pointInTime([ev("ProcessingSuspended", "2026-01-01T00:00:00Z", undefined, { purposeIds: ["ads"] })], null, null).status).toBe("ACTIVE");
  });
});

describe("saves in a person's history", () => {
  const e = (id: string, type: string, recordedAt: string, actor = { kind: "SUBJECT" as const, id: "hana" }) => ({
    id,
    position: id,
    type,
    occurredAt: recordedAt,
    recordedAt,
    actor,
    data: {},
  });

  it("groups the choices recorded together, newest first, numbered by their first event", () => {
    const saves = savedChoices([
      e("1", "PolicyAccepted", "2026-01-01T00:00:00Z"),
      e("2", "ConsentGranted", "2026-01-01T00:00:00Z"),
      e("3", "DataRequestOpened", "2026-01-02T00:00:00Z"),
      e("4", "ConsentWithdrawn", "2026-01-03T00:00:00Z"),
      e("5", "ConsentGranted", "2026-01-03T00:00:00Z", { kind: "SERVICE", id: "shop" } as never),
    ]);
    expect(saves.map((s) => [s.receiptId, s.events.map((x) => x.id)])).toEqual([
      ["5", ["5"]],
      ["4", ["4"]],
      ["1", ["1", "2"]],
    ]);
  });

  it("number a coming back by its return, which the receipt names first", () => {
    const saves = savedChoices([
      e("1", "SubjectLeft", "2026-01-01T00:00:00Z"),
      e("2", "SubjectReturned", "2026-01-02T00:00:00Z"),
      e("3", "PolicyAccepted", "2026-01-02T00:00:00Z"),
      e("4", "ConsentGranted", "2026-01-02T00:00:00Z"),
      e("5", "ConsentGranted", "2026-01-03T00:00:00Z"),
    ]);
    expect(saves.map((s) => [s.receiptId, s.events.map((x) => x.id)])).toEqual([
      ["5", ["5"]],
      ["2", ["3", "4"]],
    ]);
  });
});
