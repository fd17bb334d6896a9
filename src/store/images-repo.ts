import type {
  ImagePatch,
  ImageRecord,
  ImageShareAccount,
  ImageSoftwares,
  ImageStatus,
} from "../domain/images.js";
import type { Db, Param, Row } from "./db.js";

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function softwaresOf(text: unknown): ImageSoftwares {
  const o = JSON.parse(String(text ?? "{}")) as Partial<ImageSoftwares>;
  return {
    applications: o.applications ?? [],
    cudaVersion: o.cudaVersion ?? "",
    framework: o.framework ?? "",
    frameworkVersion: o.frameworkVersion ?? "",
  };
}

const imageFromRow = (r: Row): ImageRecord => ({
  id: String(r.id),
  accountId: String(r.account_id),
  projectId: String(r.project_id),
  region: String(r.region),
  zone: String(r.zone),
  name: String(r.name),
  description: String(r.description),
  tags: JSON.parse(String(r.tags ?? "[]")) as string[],
  softwares: softwaresOf(r.softwares),
  status: String(r.status) as ImageStatus,
  sourceInstanceId: String(r.source_instance_id),
  sourceGpuType: String(r.source_gpu_type),
  baseImageId: String(r.base_image_id),
  container: Number(r.container) === 1,
  runtimeRef: r.runtime_ref == null ? null : String(r.runtime_ref),
  sizeMB: Number(r.size_mb),
  progress: Number(r.progress),
  totalSeconds: Number(r.total_seconds),
  remainingSeconds: Number(r.remaining_seconds),
  failedReason: String(r.failed_reason),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  finishedAt: num(r.finished_at),
  deletedAt: num(r.deleted_at),
});

/** Which live images a list shows, and the window of it. */
export interface ImageListFilter {
  /** Absent: every region. */
  region?: string;
  id?: string;
  offset: number;
  limit: number;
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** Custom images and their shares: the only place their SQL lives. */
export class ImagesRepo {
  constructor(private readonly db: Db) {}

  async insert(im: ImageRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO images (id, account_id, project_id, region, zone, name, description, tags, softwares, status,
         source_instance_id, source_gpu_type, base_image_id, container, runtime_ref, size_mb, progress,
         total_seconds, remaining_seconds, failed_reason, created_at, updated_at, finished_at, deleted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        im.id,
        im.accountId,
        im.projectId,
        im.region,
        im.zone,
        im.name,
        im.description,
        JSON.stringify(im.tags),
        JSON.stringify(im.softwares),
        im.status,
        im.sourceInstanceId,
        im.sourceGpuType,
        im.baseImageId,
        im.container ? 1 : 0,
        im.runtimeRef,
        im.sizeMB,
        im.progress,
        im.totalSeconds,
        im.remainingSeconds,
        im.failedReason,
        im.createdAt,
        im.updatedAt,
        im.finishedAt,
        im.deletedAt,
      ],
    );
  }

  /** One image, deleted or not (instances made from a deleted one still read it). */
  async get(id: string): Promise<ImageRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM images WHERE id = ?", [id]);
    return rows[0] ? imageFromRow(rows[0]) : undefined;
  }

  async byIds(ids: string[]): Promise<ImageRecord[]> {
    if (ids.length === 0) return [];
    return (await this.db.all(`SELECT * FROM images WHERE id IN (${placeholders(ids.length)})`, ids)).map(
      imageFromRow,
    );
  }

  /**
   * Locks the account's row for the rest of the transaction, so two image creations of one
   * account check its names and quota one after the other. SQLite transactions are exclusive.
   */
  async lockAccount(accountId: string): Promise<void> {
    if (this.db.dialect === "postgres")
      await this.db.all("SELECT id FROM accounts WHERE id = ? FOR UPDATE", [accountId]);
  }

  /** Whether a live image of the account has this name (other than `exceptId`). */
  async nameTaken(accountId: string, name: string, exceptId = ""): Promise<boolean> {
    const rows = await this.db.all(
      "SELECT id FROM images WHERE account_id = ? AND name = ? AND deleted_at IS NULL AND id <> ? LIMIT 1",
      [accountId, name, exceptId],
    );
    return rows.length > 0;
  }

  /** Live images the account holds (its quota counts these). */
  async countLive(accountId: string): Promise<number> {
    const rows = await this.db.all(
      "SELECT COUNT(*) AS n FROM images WHERE account_id = ? AND deleted_at IS NULL",
      [accountId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The account's own live images of a region, newest first. */
  owned(accountId: string, f: ImageListFilter): Promise<{ total: number; rows: ImageRecord[] }> {
    return this.page("i.account_id = ?", [accountId], f);
  }

  /** Live images other accounts shared with this one, in a region, newest first. */
  sharedWith(accountId: string, f: ImageListFilter): Promise<{ total: number; rows: ImageRecord[] }> {
    return this.page(
      "i.account_id <> ? AND EXISTS (SELECT 1 FROM image_shares s WHERE s.image_id = i.id AND s.account_id = ?)",
      [accountId, accountId],
      f,
    );
  }

  private async page(
    who: string,
    whoParams: Param[],
    f: ImageListFilter,
  ): Promise<{ total: number; rows: ImageRecord[] }> {
    const where = [who, "i.deleted_at IS NULL"];
    const params: Param[] = [...whoParams];
    if (f.region !== undefined) {
      where.push("i.region = ?");
      params.push(f.region);
    }
    if (f.id !== undefined) {
      where.push("i.id = ?");
      params.push(f.id);
    }
    const w = where.join(" AND ");
    const total = Number((await this.db.all(`SELECT COUNT(*) AS n FROM images i WHERE ${w}`, params))[0]?.n);
    const rows = await this.db.all(
      `SELECT i.* FROM images i WHERE ${w} ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?`,
      [...params, f.limit, f.offset],
    );
    return { total, rows: rows.map(imageFromRow) };
  }

  async isSharedWith(imageId: string, accountId: string): Promise<boolean> {
    const rows = await this.db.all("SELECT 1 AS x FROM image_shares WHERE image_id = ? AND account_id = ?", [
      imageId,
      accountId,
    ]);
    return rows.length > 0;
  }

  /**
   * Holds a live, Available image for the rest of the transaction (on PostgreSQL the update takes
   * its row lock, so a concurrent delete waits for this transaction and then finds the instance
   * that uses it, or this one waits for the delete and then finds the image gone).
   */
  async holdUsable(id: string): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE images SET updated_at = updated_at WHERE id = ? AND deleted_at IS NULL AND status = 'Available'",
        [id],
      )) === 1
    );
  }

  /** A job's progress report; only while the image is still being made. */
  async reportProgress(
    id: string,
    p: { progress: number; totalSeconds: number; remainingSeconds: number },
    now: number,
  ): Promise<void> {
    await this.db.run(
      "UPDATE images SET progress = ?, total_seconds = ?, remaining_seconds = ?, updated_at = ? WHERE id = ? AND status = 'Making'",
      [p.progress, p.totalSeconds, p.remainingSeconds, now, id],
    );
  }

  /** The end of a job: Available with what the driver made, or UnAvailable with why. Guarded on Making. */
  async finish(
    id: string,
    end:
      | { status: "Available"; runtimeRef: string; sizeMB: number; totalSeconds: number }
      | { status: "UnAvailable"; reason: string },
    now: number,
  ): Promise<boolean> {
    if (end.status === "Available")
      return (
        (await this.db.run(
          `UPDATE images SET status = 'Available', runtime_ref = ?, size_mb = ?, progress = 100, total_seconds = ?,
             remaining_seconds = 0, updated_at = ?, finished_at = ? WHERE id = ? AND status = 'Making'`,
          [end.runtimeRef, end.sizeMB, end.totalSeconds, now, now, id],
        )) === 1
      );
    return (
      (await this.db.run(
        `UPDATE images SET status = 'UnAvailable', failed_reason = ?, remaining_seconds = 0, updated_at = ?,
           finished_at = ? WHERE id = ? AND status = 'Making'`,
        [end.reason, now, now, id],
      )) === 1
    );
  }

  /** Deletes a live image that is not being made (the row stays, hidden); false when it could not. */
  async markDeleted(id: string, now: number): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE images SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL AND status <> 'Making'",
        [now, now, id],
      )) === 1
    );
  }

  async update(id: string, patch: ImagePatch, now: number): Promise<boolean> {
    const sets: string[] = ["updated_at = ?"];
    const params: Param[] = [now];
    if (patch.name !== undefined) {
      sets.push("name = ?");
      params.push(patch.name);
    }
    if (patch.description !== undefined) {
      sets.push("description = ?");
      params.push(patch.description);
    }
    if (patch.tags !== undefined) {
      sets.push("tags = ?");
      params.push(JSON.stringify(patch.tags));
    }
    if (patch.softwares !== undefined) {
      sets.push("softwares = ?");
      params.push(JSON.stringify(patch.softwares));
    }
    return (
      (await this.db.run(`UPDATE images SET ${sets.join(", ")} WHERE id = ? AND deleted_at IS NULL`, [
        ...params,
        id,
      ])) === 1
    );
  }

  /** Accounts an image is shared with, in the order they were added. */
  async shares(imageId: string): Promise<ImageShareAccount[]> {
    const rows = await this.db.all(
      `SELECT a.id, a.number, a.name FROM image_shares s JOIN accounts a ON a.id = s.account_id
       WHERE s.image_id = ? ORDER BY s.created_at, a.number`,
      [imageId],
    );
    return rows.map((r) => ({ accountId: String(r.id), number: Number(r.number), name: String(r.name) }));
  }

  async addShares(imageId: string, accountIds: string[], now: number): Promise<void> {
    for (const a of accountIds)
      await this.db.run(
        "INSERT INTO image_shares (image_id, account_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [imageId, a, now],
      );
  }

  async removeShares(imageId: string, accountIds?: string[]): Promise<void> {
    if (accountIds === undefined) {
      await this.db.run("DELETE FROM image_shares WHERE image_id = ?", [imageId]);
      return;
    }
    if (accountIds.length === 0) return;
    await this.db.run(
      `DELETE FROM image_shares WHERE image_id = ? AND account_id IN (${placeholders(accountIds.length)})`,
      [imageId, ...accountIds],
    );
  }

  /** Accounts by their numbers (sharing names accounts by number); unknown numbers are left out. */
  async accountsByNumber(numbers: number[]): Promise<ImageShareAccount[]> {
    if (numbers.length === 0) return [];
    const rows = await this.db.all(
      `SELECT id, number, name FROM accounts WHERE number IN (${placeholders(numbers.length)})`,
      numbers,
    );
    return rows.map((r) => ({ accountId: String(r.id), number: Number(r.number), name: String(r.name) }));
  }

  /** Number and name of these accounts (an image's owner, as lists show it). */
  async owners(accountIds: string[]): Promise<Map<string, ImageShareAccount>> {
    if (accountIds.length === 0) return new Map();
    const rows = await this.db.all(
      `SELECT id, number, name FROM accounts WHERE id IN (${placeholders(accountIds.length)})`,
      accountIds,
    );
    return new Map(
      rows.map((r) => [
        String(r.id),
        { accountId: String(r.id), number: Number(r.number), name: String(r.name) },
      ]),
    );
  }

  /** Images being made (start-up recovery checks each has its job). */
  async making(): Promise<ImageRecord[]> {
    return (await this.db.all("SELECT * FROM images WHERE status = 'Making'")).map(imageFromRow);
  }

  /** Ids of the images whose runtime artifact must stay: live ones being made or available. */
  async liveIds(): Promise<string[]> {
    const rows = await this.db.all(
      "SELECT id FROM images WHERE deleted_at IS NULL AND status IN ('Making', 'Available')",
    );
    return rows.map((r) => String(r.id));
  }

  /** Emulator reset: every image and share goes. */
  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM image_shares");
    await this.db.run("DELETE FROM images");
  }
}
