import { badParam } from "../domain/errors.js";

/** A page as a Describe-style request asks for it (docs: Limit default 20, at most 100). */
export interface PageAsked {
  Offset?: number;
  Limit?: number;
}

export interface Page {
  offset: number;
  limit: number;
}

/** The largest Limit the docs allow on every list. */
export const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

/** What an Offset past the total means for a list. */
export type PastTheEnd =
  /** DescribeCompShareInstance: "Offset 不能超过实例总数，否则返回错误" (docs). */
  | "error"
  /** Lists whose docs say nothing, which clients page through blindly: an empty page. */
  | "empty";

/**
 * The one paging rule of every Describe-style list: the window asked for, checked against the
 * total once it is known. Offset equal to the total is an empty last page, never an error.
 */
export function pageOf(asked: PageAsked): Page {
  return { offset: asked.Offset ?? 0, limit: asked.Limit ?? DEFAULT_LIMIT };
}

/** Refuses an Offset past the total where the list's rule says so (the message names the total). */
export function checkOffset(page: Page, total: number, noun: string, rule: PastTheEnd): void {
  if (rule === "error" && page.offset > total) {
    throw badParam("Offset", `${page.offset} is beyond the total of ${total} ${noun}`);
  }
}

/** Pages an in-memory list (catalog images, for example) by the same rule. */
export function paginate<T>(
  all: T[],
  page: Page,
  noun: string,
  rule: PastTheEnd,
): { total: number; items: T[] } {
  checkOffset(page, all.length, noun, rule);
  return { total: all.length, items: all.slice(page.offset, page.offset + page.limit) };
}
