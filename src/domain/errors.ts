/**
 * The one error table. Every error the API can return is a row here: a name, its RetCode and a
 * message template. `{name}` placeholders are filled from the error's params. Nothing else in the
 * code base writes an error body.
 *
 * Gateway codes (1xx/2xx) are the official UCloud gateway codes (reference §2.1, §2.2). CompShare
 * documents no number for its business errors (§2.3, §6), so those are ours, kept in one 8xxx block
 * and documented in README; 226604 is the code users observed on the real service for sold-out GPUs.
 */
export const ERRORS = {
  MissingAction: { retCode: 160, message: "Missing Action" },
  ActionNotFound: { retCode: 161, message: "Action [{action}] not found" },
  MissingSignature: { retCode: 170, message: "Missing signature: parameter [{param}] is required" },
  SignatureError: { retCode: 171, message: "Signature VerifyAC Error" },
  UserNotExists: { retCode: 172, message: "User Not Exists: unknown PublicKey" },
  MissingParams: { retCode: 210, message: "Missing params [{param}]" },
  ParamsNotAvailable: { retCode: 230, message: "Params [{param}] not available: {reason}" },
  ProjectNotExists: { retCode: 292, message: "Project [{projectId}] not exists" },
  PermissionDenied: { retCode: 299, message: "Permission denied: {reason}" },
  InternalError: {
    retCode: 130,
    message: "Internal error (request {requestId}); the server log has details",
  },
  FaultInjected: { retCode: -1, message: "{message}" },
  /**
   * The UCloud gateway's own code for throttling is 153, which neither official SDK retries (Go
   * retries RetCode >= 2000, Python > 2000); 8153 keeps the 153 in its name and is retried by both.
   */
  RequestThrottled: {
    retCode: 8153,
    message: "Request throttled: {reason}; retry in {retryAfter} s",
  },

  InstanceNotFound: { retCode: 8039, message: "UHostId {uhostId} not found" },
  InstanceOperationInProgress: {
    retCode: 8040,
    message:
      "InstanceOperationInProgress: instance {uhostId} is locked by operation [{operation}] until {until}",
  },
  InvalidInstanceState: {
    retCode: 8041,
    message: "Instance {uhostId} is [{state}]; {action} is allowed only from [{allowed}]",
  },
  NotEnoughGpuOnHost: {
    retCode: 8042,
    message:
      "Not enough GPUs of type {gpuType} on this host: need {need}, free {free}; its disks live there, so start it with WithoutGpu=true or try later",
  },
  SpotStopNeedsForce: {
    retCode: 8043,
    message: "Instance {uhostId} is a spot instance; stopping it needs Force=true",
  },
  ImageInProgress: {
    retCode: 8044,
    message: "Instance {uhostId} has a custom image being made; {action} is not allowed until it finishes",
  },
  StopSchedulerNotAllowed: {
    retCode: 8045,
    message: "Instance {uhostId} is a spot instance; scheduled stop is not supported for spot instances",
  },
  QuotaExceeded: {
    retCode: 8046,
    message: "Instance quota exceeded: the account may hold {quota} instances and holds {count}",
  },
  GpuQuotaExceeded: {
    retCode: 8046,
    message:
      "GPU quota exceeded: the account may hold {quota} GPUs at once, holds {held} and asks for {need} more; stop an instance or start this one with WithoutGpu=true",
  },
  NotInRecycle: { retCode: 8047, message: "UHostId {uhostId} is not in the recycle bin" },
  HostResourceNotEnough: {
    retCode: 8048,
    message: "Not enough CPU or memory on this host for the new spec ({reason}); its disks live there",
  },
  PasswordNotApplicable: {
    retCode: 8049,
    message:
      "The password of {uhostId} cannot be set while it runs: {reason}; stop it and reset the password then",
  },
  DriverFailed: { retCode: 8050, message: "The runtime of {uhostId} refused: {reason}" },
  // Data disks: 8434 is the real service's "still detaching", which the official CLI retries
  // DeleteCompshareDisk on; the others of the 843x block are ours.
  DiskNotFound: { retCode: 8430, message: "UDiskId {diskId} not found" },
  DiskNotAvailable: {
    retCode: 8431,
    message: "Disk {diskId} is {state}; {action} needs a detached (Available) disk",
  },
  DiskNotAttached: { retCode: 8432, message: "Disk {diskId} is not attached to {uhostId}" },
  DiskLimitExceeded: {
    retCode: 8433,
    message: "Instance {uhostId} already has {count} data disks, the most its type ({gpuType}) allows",
  },
  DiskDetaching: {
    retCode: 8434,
    message: "Disk {diskId} is still detaching from {uhostId}; retry in a moment",
  },
  DiskZoneMismatch: {
    retCode: 8435,
    message:
      "Disk {diskId} is in zone {diskZone} and instance {uhostId} in {zone}; a disk attaches within its zone",
  },
  SystemDiskNotDetachable: {
    retCode: 8436,
    message: "Disk {diskId} is the system disk of {uhostId}; the system disk cannot be {action}",
  },
  PortsNotSupported: {
    retCode: 8440,
    message:
      "Instance {uhostId} runs a VM image; published ports are set on container instances (cpod-), a VM is reached over SSH",
  },
  // Custom images: a block of their own (8070-8079), so parallel work on other resources cannot
  // hand out the same numbers. Ids and names without brackets, as above: the official CLI prints
  // messages through Rich, which takes brackets for markup.
  ImageNotFound: { retCode: 8070, message: "CompShareImageId {imageId} not found" },
  ImageNameInUse: {
    retCode: 8071,
    message: "The account already has an image named {name}; image names are unique per account",
  },
  ImageQuotaExceeded: {
    retCode: 8072,
    message: "Image quota exceeded: the account may hold {quota} custom images and holds {count}",
  },
  InvalidImageState: {
    retCode: 8073,
    message: "Image {imageId} is [{status}]; {action} needs it [{allowed}]",
  },
  ImagesNotSupported: {
    retCode: 8074,
    message: "The {driver} driver cannot make custom images",
  },
  TooManyEventStreams: {
    retCode: 8450,
    message:
      "Too many event streams: an account may hold {limit} open at once on this server; close one, or resume later with Last-Event-ID",
  },
  ResourceSoldOut: { retCode: 226604, message: "This GPU type is currently out of resources ({detail})" },
} as const satisfies Record<string, { retCode: number; message: string }>;

export type ErrorName = keyof typeof ERRORS;

/** A domain or protocol error that renders as one row of {@link ERRORS}. */
export class ApiError extends Error {
  readonly retCode: number;
  constructor(
    readonly code: ErrorName,
    readonly params: Record<string, string | number> = {},
    retCodeOverride?: number,
  ) {
    super(renderMessage(ERRORS[code].message, params));
    this.name = "ApiError";
    this.retCode = retCodeOverride ?? ERRORS[code].retCode;
  }
}

function renderMessage(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

/**
 * Internal: a guarded update lost a race. Never rendered; the transaction is retried (placement)
 * or the task postponed (worker).
 */
export class Conflict extends Error {
  constructor() {
    super("conflict");
    this.name = "Conflict";
  }
}

/**
 * A runtime cannot do what was asked because of what the instance's image lacks (no chpasswd, say).
 * Drivers throw it; core turns it into the matching row of the table.
 */
export class UnsupportedByRuntime extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedByRuntime";
  }
}

/** Shorthand for the most common validation error. */
export function badParam(param: string, reason: string): ApiError {
  return new ApiError("ParamsNotAvailable", { param, reason });
}

/** Shorthand for a required parameter that is absent. */
export function missingParam(param: string): ApiError {
  return new ApiError("MissingParams", { param });
}
