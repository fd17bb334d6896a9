import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams, startTestServer } from "../../../test/helpers.js";
import { CatalogIndex, DEFAULT_CATALOG } from "../../core/catalog/catalog.js";
import { nightDiscount } from "../../core/catalog/pricing.js";
import type { Sample } from "../../core/monitor/monitor.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { InstanceContext } from "./render-instance.js";
import { renderedInstance } from "./render-instance.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const shown = (b: Uint8Array) => JSON.parse(text(b)) as Record<string, unknown>;

describe("renderedInstance", () => {
  it("keeps a rendering while nothing it shows changed, and renders again when any input does", async () => {
    const t = await startTestServer({}, { catalog: DEFAULT_CATALOG }, { http: false });
    try {
      const { store } = t.server.internals;
      const { instances, images } = t.server.services;
      const make = async (chargeType: string) => {
        const r = await t.call("CreateCompShareInstance", createParams({ ChargeType: chargeType }));
        const id = (r.UHostIds as string[])[0] as string;
        await t.waitState(id, "Running");
        return (await store.instances.get(id)) as InstanceRecord;
      };
      const hourly = await make("Dynamic");
      const monthly = await make("Month");
      const catalog = new CatalogIndex(DEFAULT_CATALOG);
      const ctxOf = async (inst: InstanceRecord): Promise<InstanceContext> => ({
        catalog,
        image: (await images.ofInstances([inst.imageId])).get(inst.imageId),
        // As Describe reads them: the shared records of the rows' versions.
        disks:
          (
            await store.instances.describe({ projectId: inst.projectId, ids: [inst.id], offset: 0, limit: 1 })
          ).disks.get(inst.id) ?? [],
        sample: undefined,
        now: inst.createdAt,
        password: (i) => instances.password(i),
      });
      // A copy of the record is another identity: rendered anew, whatever was kept.
      const fresh = (inst: InstanceRecord, c: InstanceContext) => text(renderedInstance({ ...inst }, c));

      const check = async (
        inst: InstanceRecord,
        change: (c: InstanceContext) => InstanceContext,
        field: string,
      ) => {
        const base = await ctxOf(inst);
        const before = renderedInstance(inst, base);
        // The same inputs, made again (as each Describe makes them): the kept bytes themselves.
        assert.equal(renderedInstance(inst, await ctxOf(inst)), before, `${field}: kept`);
        const changed = change(base);
        const after = renderedInstance(inst, changed);
        assert.notDeepEqual(shown(after)[field], shown(before)[field], `${field} follows its input`);
        assert.equal(text(after), fresh(inst, changed), `${field}: as rendered anew`);
      };

      // The clock, through the night discount (hourly) and the expiry (monthly).
      const hours = Array.from({ length: 24 }, (_, h) => Date.UTC(2026, 0, 1, h));
      const day = hours.find((h) => nightDiscount(DEFAULT_CATALOG, "Dynamic", h) === undefined) as number;
      const night = hours.find((h) => nightDiscount(DEFAULT_CATALOG, "Dynamic", h) !== undefined) as number;
      const atDay = { ...hourly, createdAt: day };
      await check(atDay, (c) => ({ ...c, now: night }), "DiscountType");
      assert.ok(monthly.expireAt !== null);
      await check(monthly, (c) => ({ ...c, now: (monthly.expireAt as number) + 1000 }), "IsExpire");

      // The newest monitoring sample (a Running instance shows it).
      const sample = (at: number, cpu: number): Sample => ({
        at,
        data: { cpu, memory: 10, gpus: [], dataDisks: [] },
      });
      await check(hourly, (c) => ({ ...c, sample: sample(hourly.createdAt + 1, 42) }), "MonitorMessages");
      const withSample = async (i: InstanceRecord) => ({
        ...(await ctxOf(i)),
        sample: sample(i.createdAt + 1, 42),
      });
      const one = renderedInstance(hourly, await withSample(hourly));
      const next = { ...(await withSample(hourly)), sample: sample(hourly.createdAt + 2, 43) };
      assert.notEqual(renderedInstance(hourly, next), one, "a newer sample renders again");

      // The image, made per request: a status change shows.
      await check(
        hourly,
        (c) => ({ ...c, image: c.image && { ...c.image, status: "UnAvailable" } }),
        "CompShareImageStatus",
      );
      // What Describe does not show of an image (a custom image's record, parsed anew on every
      // request; its runtime reference) does not make it render again.
      const kept = renderedInstance(hourly, await ctxOf(hourly));
      const other = await ctxOf(hourly);
      const reResolved = { ...other, image: other.image && { ...other.image, runtimeImage: "elsewhere" } };
      assert.equal(renderedInstance(hourly, reResolved), kept);
      // A disk's new version is a new record.
      await check(
        hourly,
        (c) => ({ ...c, disks: c.disks.map((d) => (d.isBoot ? { ...d, sizeGB: d.sizeGB + 10 } : d)) }),
        "DiskSet",
      );
      // Another catalog (an operator's new prices).
      const dearer = new CatalogIndex({
        ...DEFAULT_CATALOG,
        prices: {
          ...DEFAULT_CATALOG.prices,
          gpu: Object.fromEntries(
            Object.entries(DEFAULT_CATALOG.prices.gpu).map(([k, v]) => [
              k,
              Object.fromEntries(Object.entries(v).map(([c, p]) => [c, (p as number) * 2])),
            ]),
          ),
        },
      });
      await check(atDay, (c) => ({ ...c, catalog: dearer }), "InstancePrice");
      // And the record itself: a change is a new record.
      const renamed = { ...hourly, name: "renamed" };
      assert.equal(shown(renderedInstance(renamed, await ctxOf(hourly))).Name, "renamed");
    } finally {
      await t.close();
    }
  });
});
