/**
 * A custom image's status, spelled as on the wire (docs: Making / Available / UnAvailable; the
 * Reviewing and Offline of community publishing are not offered here).
 */
export const IMAGE_STATUSES = ["Making", "Available", "UnAvailable"] as const;
/** One of {@link IMAGE_STATUSES}. */
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** What a maker says is installed (the Go SDK's `Softwares`); shown, never interpreted. */
export interface ImageSoftwares {
  applications: string[];
  cudaVersion: string;
  framework: string;
  frameworkVersion: string;
}

/** One custom image as the store keeps it; every layer reads this shape, only the store writes it. */
export interface ImageRecord {
  id: string;
  accountId: string;
  /** The project whose instance it was made from (events are announced there). */
  projectId: string;
  region: string;
  zone: string;
  name: string;
  description: string;
  tags: string[];
  softwares: ImageSoftwares;
  status: ImageStatus;
  sourceInstanceId: string;
  sourceGpuType: string;
  /** The catalog image at the root of it (a custom image of a custom image keeps the first one's). */
  baseImageId: string;
  container: boolean;
  /** What the driver made of it (a Docker image id, a volume snapshot name); null until Available. */
  runtimeRef: string | null;
  sizeMB: number;
  /** The job's last report: percent done and the driver's estimates, in seconds. */
  progress: number;
  totalSeconds: number;
  remainingSeconds: number;
  failedReason: string;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /**
   * Set by TerminateCompShareCustomImage. The row stays (hidden from every list) because instances
   * made from the image still name it: their runtime reference and base image are read from here.
   */
  deletedAt: number | null;
}

/** The fields an owner may change (UpdateCompShareImage). */
export type ImagePatch = Partial<Pick<ImageRecord, "name" | "description" | "tags" | "softwares">>;

/** An account an image is shared with, as the share lists show it. */
export interface ImageShareAccount {
  accountId: string;
  /** The account's number: CompShare's account ids are integers (`AddAccounts.N`). */
  number: number;
  name: string;
}
