import { badParam } from "../../domain/errors.js";
import type { ImageSoftwares } from "../../domain/images.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { State } from "../../domain/states.js";
import { checkName } from "../instances/create.js";

/** Description length we keep (the docs give none). */
const MAX_DESCRIPTION = 255;
/** The Go SDK's UpdateCompShareImage: "最多支持3个标签". */
const MAX_TAGS = 3;
const MAX_TAG = 32;
const MAX_SOFTWARE_FIELD = 64;
const MAX_APPLICATIONS = 20;

/** Image names follow the instance-name rule (docs): ≤ 63 characters of CJK, letters, digits, `_ . , : -`. */
export function checkImageName(name: string, param = "Name"): string {
  return checkName(name, param);
}

/** A description within the length we keep. */
export function checkDescription(text: string, param = "Description"): string {
  if ([...text].length > MAX_DESCRIPTION) throw badParam(param, `at most ${MAX_DESCRIPTION} characters`);
  return text;
}

/** At most 3 tags of 1-32 characters; repeats are dropped. */
export function checkTags(tags: string[], param = "Tags"): string[] {
  if (tags.length > MAX_TAGS) throw badParam(param, `at most ${MAX_TAGS} tags`);
  tags.forEach((t, i) => {
    if (t.length === 0 || [...t].length > MAX_TAG)
      throw badParam(`${param}.${i}`, `a tag has 1 to ${MAX_TAG} characters`);
  });
  return [...new Set(tags)];
}

/** What the Go SDK's `Softwares` object (request) or UpdateCompShareImage's `Softwares` string carries. */
export interface SoftwaresAsked {
  Application?: string[];
  Applications?: string[];
  CUDAVersion?: string;
  Framework?: string;
  FrameworkVersion?: string;
}

/** The `Softwares` object checked field by field (strings of at most 64 characters, ≤ 20 applications). */
export function checkSoftwares(s: SoftwaresAsked | undefined, param = "Softwares"): ImageSoftwares {
  const field = (v: unknown, name: string): string => {
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") throw badParam(`${param}.${name}`, "must be a string");
    if ([...v].length > MAX_SOFTWARE_FIELD)
      throw badParam(`${param}.${name}`, `at most ${MAX_SOFTWARE_FIELD} characters`);
    return v;
  };
  const apps = s?.Application ?? s?.Applications ?? [];
  if (!Array.isArray(apps)) throw badParam(`${param}.Application`, "must be a list of names");
  if (apps.length > MAX_APPLICATIONS)
    throw badParam(`${param}.Application`, `at most ${MAX_APPLICATIONS} applications`);
  return {
    applications: apps.map((a, i) => field(a, `Application.${i}`)),
    cudaVersion: field(s?.CUDAVersion, "CUDAVersion"),
    framework: field(s?.Framework, "Framework"),
    frameworkVersion: field(s?.FrameworkVersion, "FrameworkVersion"),
  };
}

/**
 * UpdateCompShareImage's `Softwares` is a string in the SDK models: a JSON object of the same
 * fields as Create's `Softwares`.
 */
export function parseSoftwares(text: string, param = "Softwares"): ImageSoftwares {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badParam(param, 'a JSON object such as {"Framework":"PyTorch","CUDAVersion":"12.1"}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw badParam(param, 'a JSON object such as {"Framework":"PyTorch","CUDAVersion":"12.1"}');
  return checkSoftwares(parsed as SoftwaresAsked, param);
}

/**
 * Docs: an instance of a VM image may be imaged Running or Stopped, one of a container image only
 * Running.
 */
export function imageableStates(inst: Pick<InstanceRecord, "instanceType">): readonly State[] {
  return inst.instanceType === "Container" ? ["Running"] : ["Running", "Stopped"];
}
