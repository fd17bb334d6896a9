// No Node dependency: the browser console throws and reads the same error.

/** An API error (RetCode ≠ 0), a non-200 status (retCode -1) or a transport failure (retCode -1). */
export class CompShareError extends Error {
  constructor(
    readonly retCode: number,
    message: string,
    readonly action: string,
    readonly requestId: string | undefined,
    readonly httpStatus?: number,
  ) {
    super(`${action}: RetCode ${retCode}: ${message}`);
    this.name = "CompShareError";
  }

  /** Go SDK rules: RetCode ≥ 2000, HTTP 429/502/503/504, and transport failures are retryable. */
  get retryable(): boolean {
    if (this.httpStatus !== undefined) return [429, 502, 503, 504].includes(this.httpStatus);
    return this.retCode >= 2000 || this.retCode === -1;
  }
}
