// Ledger events as Japanese sentences, shared by both pages: "2026年12月6日 14:02 JST、「…」に同意しました（第1版）".
// Purpose and policy ids become their titles; an event type this page does not know is still described, by its name.
import { DATA_CATEGORY_LABEL, REQUEST_KIND_LABEL, formatDate, formatDateTime, label } from "./format.js";

/** The titles of policies and purposes, from the catalogue, by id. */
export interface NameBook {
  policy(policyId: string): string | undefined;
  purpose(policyId: string | undefined, purposeId: string): string | undefined;
}

interface PolicyNames {
  id: string;
  title: string;
  versions: readonly { purposes: readonly { id: string; title: string }[] }[];
}

/** A name book from the policies the API lists; a later version's title of a purpose wins. */
export function nameBook(policies: readonly PolicyNames[]): NameBook {
  const policyTitles = new Map(policies.map((p) => [p.id, p.title]));
  const purposeTitles = new Map<string, string>();
  const anyPolicy = new Map<string, string>();
  for (const p of policies)
    for (const v of p.versions)
      for (const u of v.purposes) {
        purposeTitles.set(`${p.id}\u0000${u.id}`, u.title);
        anyPolicy.set(u.id, u.title);
      }
  return {
    policy: (id) => policyTitles.get(id),
    purpose: (policyId, purposeId) => (policyId ? purposeTitles.get(`${policyId}\u0000${purposeId}`) : undefined) ?? anyPolicy.get(purposeId),
  };
}

export const EMPTY_NAMES: NameBook = { policy: () => undefined, purpose: () => undefined };

export interface DescribedEvent {
  type: string;
  occurredAt: string;
  data: unknown;
}

type Data = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);

/** A personal member as it can be read: its text, or nothing when sealed from this reader, erased or absent. */
function personal(v: unknown): string | undefined {
  if (typeof v === "string") return v || undefined;
  if (typeof v === "object" && v !== null && "plain" in v) return str((v as { plain: unknown }).plain);
  return undefined;
}

const quoted = (title: string) => `「${title}」`;

function purposeName(names: NameBook, d: Data, key = "purposeId"): string {
  const id = str(d[key]);
  if (!id) return "目的";
  return quoted(names.purpose(str(d["policyId"]), id) ?? id);
}

function purposeList(names: NameBook, d: Data, ids: unknown): string {
  if (!Array.isArray(ids)) return "";
  return ids.map((id) => quoted(names.purpose(str(d["policyId"]), String(id)) ?? String(id))).join("");
}

function policyName(names: NameBook, d: Data): string {
  const id = str(d["policyId"]);
  return id ? quoted(names.policy(id) ?? id) : "ポリシー";
}

/** The version an event names, under any of the member names the ledger uses for it. */
const versionOf = (d: Data): number | undefined => num(d["version"]) ?? num(d["policyVersion"]) ?? num(d["number"]);
const versionText = (d: Data): string => {
  const v = versionOf(d);
  return v === undefined ? "" : `第${v}版`;
};

const categories = (v: unknown): string => (Array.isArray(v) ? v.map((c) => label(DATA_CATEGORY_LABEL, String(c))).join("、") : "");

/** What was read, for PersonalDataAccessed, in words. */
const ACCESS_LABEL: Record<string, string> = {
  subjectExport: "開示データ（記録の全体）",
  evidence: "同意の証跡",
  history: "履歴",
  dataRequest: "請求の内容",
};

function accessed(d: Data): string {
  const what = d["what"] ?? d["read"] ?? d["resource"] ?? d["operation"] ?? d["field"];
  if (Array.isArray(what)) return what.map((w) => label(ACCESS_LABEL, String(w))).join("、");
  const s = str(what);
  return s ? label(ACCESS_LABEL, s) : "個人データ";
}

/** The event's fact as a Japanese clause ending in 〜しました (or 〜されました), without its time. */
export function describeEvent(e: DescribedEvent, names: NameBook = EMPTY_NAMES): string {
  const d: Data = typeof e.data === "object" && e.data !== null ? (e.data as Data) : {};
  const v = versionText(d);
  const inVersion = v ? `（${v}）` : "";
  switch (e.type) {
    case "PolicyAccepted":
      return `${policyName(names, d)}${v}に同意しました`;
    case "ConsentGranted": {
      const until = str(d["expiresAt"]);
      return `${purposeName(names, d)}に同意しました（${[v, until ? `${formatDate(until)}まで有効` : ""].filter(Boolean).join("、") || "—"}）`;
    }
    case "ConsentWithdrawn":
      return `${purposeName(names, d)}への同意を撤回しました${inVersion}`;
    case "ConsentExpired":
      return `${purposeName(names, d)}への同意が期限切れになりました`;
    case "ProcessingSuspended": {
      const which = purposeList(names, d, d["purposeIds"]);
      return `${which ? `${which}での` : "すべての目的での"}利用を停止しました${str(d["dataRequestId"]) ? "（請求に基づく）" : ""}`;
    }
    case "ProcessingResumed":
      return "利用の停止を解除しました";
    case "SubjectLeft":
      return "退会しました";
    case "SubjectReturned":
      return "ポリシーに同意し直して、利用を再開しました";
    case "SubjectErased":
      return `個人データを消去しました${str(d["dataRequestId"]) ? "（消去の請求に基づく）" : ""}`;
    case "SubjectMerged":
      return `別の利用者ID（${str(d["into"]) ?? "—"}）に統合しました`;
    case "PolicyVersionPublished":
      return `${quoted(str(d["title"]) ?? names.policy(str(d["policyId"]) ?? "") ?? "ポリシー")}${v}を公表しました`;
    case "PolicyVersionEffective":
      return `${policyName(names, d)}${v}が施行されました`;
    case "PolicyAnnounced": {
      const method = str(d["method"]);
      return `${policyName(names, d)}${v}の変更を周知しました${method ? `（方法：${method}）` : ""}`;
    }
    case "NoticeShown": {
      const channel = str(d["channel"]);
      return `${policyName(names, d)}${v}の説明を表示しました${channel ? `（${channel}）` : ""}`;
    }
    case "PersonalDataAccessed": {
      const reason = personal(d["reason"]);
      return `${accessed(d)}が閲覧されました${reason ? `（理由：${reason}）` : ""}`;
    }
    case "ThirdPartyTransferRecorded": {
      const party = d["counterparty"] as Data | undefined;
      const name = str(party?.["name"]) ?? "提供先";
      const what = categories(d["dataCategories"]) || "個人データ";
      return d["direction"] === "RECEIVED" ? `${name}から${what}を受け取りました（記録）` : `${name}に${what}を提供しました（記録）`;
    }
    case "DataRequestOpened":
      return `${label(REQUEST_KIND_LABEL, str(d["kind"]) ?? "—")}の請求を受け付けました（回答期限 ${formatDate(str(d["dueAt"]))}）`;
    case "DataRequestIdentityVerified": {
      const how = personal(d["method"]) ?? str(d["label"]);
      return `請求者の本人確認を記録しました${how ? `（${how}）` : ""}`;
    }
    case "DataRequestExtended":
      return `請求の回答期限を${num(d["days"]) ?? "—"}日延長しました（${formatDate(str(d["dueAt"]))}まで。理由：${str(d["reason"]) ?? "—"}）`;
    case "DataRequestClosed": {
      const note = str(d["officerNote"]) ?? personal(d["note"]);
      return d["fulfilled"] === true ? `請求への対応を完了しました${note ? `（${note}）` : ""}` : `請求を却下しました${note ? `（理由：${note}）` : ""}`;
    }
    default:
      return `種類「${e.type}」の記録が追加されました`;
  }
}

/** The event as one sentence with its time: "2026年12月6日 14:02 JST、…". */
export const eventSentence = (e: DescribedEvent, names: NameBook = EMPTY_NAMES): string => `${formatDateTime(e.occurredAt)}、${describeEvent(e, names)}`;
