import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { createParams, createRunning, startTestServer } from "../../../test/helpers.js";
import { CatalogError, DEFAULT_CATALOG, loadCatalog, validateCatalog } from "../../core/catalog/catalog.js";
import type { Catalog } from "../../domain/catalog.js";

type Obj = Record<string, unknown>;
let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
});

describe("catalog actions", () => {
  it("DescribeAvailableCompShareInstanceTypes: types per zone with sizes, disks, platforms; spot filter", async () => {
    const r = await t.call("DescribeAvailableCompShareInstanceTypes", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
    });
    assert.equal(r.RetCode, 0);
    const types = r.AvailableInstanceTypes as Obj[];
    assert.deepEqual(
      types.map((x) => x.Name),
      ["4090", "5090", "3090", "3080Ti", "4090_48G", "A800"],
    );
    const t4090 = types[0]!;
    assert.equal(t4090.Status, "Normal");
    assert.deepEqual((t4090.MachineSizes as Obj[])[0], {
      Gpu: 1,
      // Memory in GB (docs; the official CLI matches it against capacity's Mem in GB).
      Collection: [{ Cpu: 16, Memory: [64], MinimalCpuPlatform: ["Amd/Epyc2"] }],
    });
    assert.deepEqual(t4090.CpuPlatforms, { Intel: [], Amd: ["Amd/Epyc2"], Ampere: [] });
    assert.deepEqual(t4090.GraphicsMemory, { Value: 24, Rate: 100 });
    const a800 = types.find((x) => x.Name === "A800")!;
    assert.deepEqual(
      (a800.Disks as Obj[]).map((d) => d.Name),
      ["CLOUD_SSD", "CLOUD_RSSD"],
    );
    const spot = await t.call("DescribeAvailableCompShareInstanceTypes", {
      Region: "cn-wlcb",
      InstanceType: "spot",
    });
    assert.ok(
      !(spot.AvailableInstanceTypes as Obj[]).some((x) => x.Name === "4090_48G" || x.Name === "A800"),
    );
    const none = await t.call("DescribeAvailableCompShareInstanceTypes", {
      Region: "cn-wlcb",
      MachineTypes: ["X"],
    });
    assert.deepEqual(none.AvailableInstanceTypes, []);
    // The official CLI's `instance search --gpu 4090` filters by GPU type name; "G" is every type.
    const byName = await t.call("DescribeAvailableCompShareInstanceTypes", {
      Region: "cn-wlcb",
      MachineTypes: ["4090", "A800"],
    });
    assert.deepEqual(
      (byName.AvailableInstanceTypes as Obj[]).map((x) => `${x.Name}@${x.Zone}`),
      ["4090@cn-wlcb-01", "A800@cn-wlcb-01"],
    );
    const g = await t.call("DescribeAvailableCompShareInstanceTypes", {
      Region: "cn-wlcb",
      MachineTypes: ["G"],
    });
    assert.equal((g.AvailableInstanceTypes as Obj[]).length, types.length);
    // No Region: every region's zones (the CLI's calls carry none).
    const all = await t.call("DescribeAvailableCompShareInstanceTypes", { MachineTypes: ["4090"] });
    assert.deepEqual(
      (all.AvailableInstanceTypes as Obj[]).map((x) => x.Zone),
      ["cn-wlcb-01", "cn-bj2-02", "cn-gd-02", "us-den-01"],
    );
    assert.equal(
      (await t.call("DescribeAvailableCompShareInstanceTypes", { Region: "cn-wlcb", InstanceType: "vm" }))
        .RetCode,
      230,
    );
  });

  it("DescribeCompShareImages: System by default, filters, paging", async () => {
    const sys = await t.call("DescribeCompShareImages", { Region: "cn-wlcb" });
    assert.equal(sys.TotalCount, 2);
    const img = (sys.ImageSet as Obj[])[0]!;
    assert.equal(img.CompShareImageId, "compshareImage-ubuntu2204");
    assert.equal(img.Container, "False");
    assert.equal(typeof img.Size, "number");
    assert.equal(
      (await t.call("DescribeCompShareImages", { Region: "cn-wlcb", ImageType: "App" })).TotalCount,
      1,
    );
    assert.equal(
      (await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Name: "cuda" })).TotalCount,
      1,
    );
    assert.equal(
      (
        await t.call("DescribeCompShareImages", {
          Region: "cn-wlcb",
          CompShareImageId: "compshareImage-pytorch21",
        })
      ).TotalCount,
      1,
    );
    assert.equal(
      (await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Tag: "jupyter", ImageType: "App" }))
        .TotalCount,
      1,
    );
    assert.equal(
      (
        (await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Limit: 1, Offset: 1 }))
          .ImageSet as Obj[]
      ).length,
      1,
    );
    // Past the end is an empty page with the true total (the official CLI pages the four types
    // with one running offset); Game and Other are types with no image in this catalog.
    const past = await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Offset: 3 });
    assert.deepEqual([past.RetCode, past.TotalCount, (past.ImageSet as Obj[]).length], [0, 2, 0]);
    for (const ImageType of ["Game", "Other"]) {
      const r = await t.call("DescribeCompShareImages", { Region: "cn-wlcb", ImageType });
      assert.deepEqual([r.RetCode, r.TotalCount, (r.ImageSet as Obj[]).length], [0, 0, 0], ImageType);
    }
    assert.equal((await t.call("DescribeCompShareImages", { ImageType: "Custom" })).RetCode, 230);
    assert.equal((await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Limit: 101 })).RetCode, 230);
  });

  it("prices: both spellings in, both keys out; the price on Describe is the price quoted", async () => {
    const a = await t.call("GetCompShareInstancePrice", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      Gpu: "2",
      Cpu: "32",
      Memory: "131072",
      ChargeType: "Dynamic",
    });
    const b = await t.call("GetCompShareInstanceUserPrice", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      GPU: 2,
      CPU: 32,
      Memory: 131072,
      ChargeType: "Dynamic",
    });
    assert.equal(a.RetCode, 0);
    assert.deepEqual(a.PriceDetails, b.PriceDetails);
    assert.deepEqual(a.PriceDetail, a.PriceDetails);
    assert.deepEqual(a.OriginalPriceDetail, a.OriginalPriceDetails);
    assert.deepEqual(a.ListPriceDetail, a.ListPriceDetails);
    const item = (a.PriceDetails as Obj[])[0]!;
    assert.equal(item.ChargeType, "Dynamic");
    assert.equal((a.OriginalPriceDetails as Obj[])[0]!.Instance, 4.1);
    assert.equal(typeof item.ListPrice, "string");
    const all = await t.call("GetCompShareInstancePrice", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      Gpu: 1,
      Cpu: 16,
      Memory: 65536,
    });
    assert.deepEqual(
      (all.PriceDetails as Obj[]).map((x) => x.ChargeType),
      ["Month", "Day", "Dynamic", "Postpay", "Spot"],
    );
    const errs: Array<[Obj, RegExp]> = [
      [{ GpuType: "H100" }, /\[GpuType\]/],
      [{ GpuType: "4090", Gpu: 3 }, /\[Gpu\].*choose one of 1, 2, 4, 8/],
      [{ GpuType: "4090", Gpu: 1, Cpu: 8 }, /\[Cpu\]/],
      [{ GpuType: "4090", Gpu: 1, GPU: 2 }, /\[GPU\].*differs/],
      [{ GpuType: "A800", ChargeType: "Spot" }, /\[ChargeType\].*not offered/],
    ];
    for (const [p, re] of errs)
      assert.match(
        String(
          (await t.call("GetCompShareInstancePrice", { Region: "cn-wlcb", Zone: "cn-wlcb-01", ...p }))
            .Message,
        ),
        re,
      );

    // The same spec and disks, priced and then created: Describe shows exactly the quoted numbers.
    const disks = [
      { IsBoot: true, Type: "CLOUD_SSD", Size: 100 },
      { IsBoot: false, Type: "CLOUD_SSD", Size: 200 },
    ];
    const q = await t.call("GetCompShareInstancePrice", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      GpuType: "4090",
      Gpu: 1,
      Cpu: 16,
      Memory: 65536,
      ChargeType: "Postpay",
      Disks: disks,
    });
    const id = await createRunning(t, { ChargeType: "Postpay", Disks: disks });
    const u = (await t.describeOne(id))!;
    const quoted = (q.PriceDetails as Obj[])[0]!;
    assert.equal(u.InstancePrice, quoted.Instance);
    assert.equal(
      u.DiskPrice,
      Math.round((Number(quoted.Disks) + Number(quoted.SystemDisks)) * 10000) / 10000,
    );
    assert.equal(u.DiscountType, quoted.InstanceDiscountType);
    assert.deepEqual(
      (u.DiskPriceInfo as Obj[]).map((d) => d.IsBoot),
      [true, false],
    );
  });

  it("DescribeCompShareGpuInventory (a JSON string), MachineTypeFamilies, SupportZone", async () => {
    const inv = await t.call("DescribeCompShareGpuInventory", { Region: "cn-wlcb" });
    assert.equal(typeof inv.GpuInventoryByZone, "string");
    const parsed = JSON.parse(inv.GpuInventoryByZone as string) as {
      Exclusive: Record<string, Record<string, number>>;
      Spot: Record<string, Record<string, number>>;
    };
    assert.ok(parsed.Exclusive["cn-wlcb-01"]?.["4090"]! > 0);
    assert.equal(parsed.Spot["cn-wlcb-01"]?.A800, undefined);
    assert.deepEqual(inv.SpotUnsupportedGpuTypes, ["4090_48G", "A800"]);
    // Objects, as the docs and the official CLI read them (the Go SDK model's []string is drift).
    const fam = await t.call("DescribeCompShareMachineTypeFamilies", {});
    const machineTypes = fam.MachineTypes as Array<{ Name: string; Description: string }>;
    assert.deepEqual(
      machineTypes.map((m) => m.Name),
      ["4090", "5090", "3090", "3080Ti", "4090_48G", "A800"],
    );
    assert.equal(typeof machineTypes[0]?.Description, "string");
    const map = fam.MachineTypesMap as Record<string, Array<{ Name: string }>>;
    assert.deepEqual(
      map["5"]?.map((m) => m.Name),
      ["4090"],
      "grouped by zone id (us-den-01 is zone 5)",
    );
    // No Region on SupportZone either: every region's zones, each naming its region.
    const zones = await t.call("DescribeCompShareSupportZone", {});
    assert.deepEqual(
      (zones.ZoneInfo as Array<{ Region: string; Zone: string }>).map((z) => `${z.Region}/${z.Zone}`),
      ["cn-wlcb/cn-wlcb-01", "cn-bj2/cn-bj2-02", "cn-sh2/cn-sh2-01", "cn-gd/cn-gd-02", "us-den/us-den-01"],
    );
    const one = await t.call("DescribeCompShareSupportZone", { Region: "cn-bj2" });
    assert.deepEqual(
      (one.ZoneInfo as Array<{ Zone: string }>).map((z) => z.Zone),
      ["cn-bj2-02"],
    );
  });
});

describe("capacity, SoldOut and Create's placement agree", () => {
  it("with a catalog changed to one 2-GPU host and then grown", async () => {
    const one: Catalog = {
      ...DEFAULT_CATALOG,
      hosts: [{ id: "only", zone: "cn-wlcb-01", gpuType: "4090", gpus: 2, cpu: 48, memoryMB: 196608 }],
    };
    const s = await startTestServer({}, { catalog: one });
    try {
      const capacity = async () => {
        const r = await s.call("CheckCompShareResourceCapacity", {
          Region: "cn-wlcb",
          Zone: "cn-wlcb-01",
          GpuType: "4090",
          ChargeType: "Postpay",
          CompShareImageId: "compshareImage-ubuntu2204",
          MachineType: "G",
          MinimalCpuPlatform: "Amd/Auto",
        });
        return Object.fromEntries(
          (r.Specs as Array<{ Gpu: number; Mem: number; ResourceEnough: boolean }>).map((x) => [
            x.Gpu,
            x.ResourceEnough,
          ]),
        );
      };
      const status = async (zone = "cn-wlcb-01") => {
        const r = await s.call("DescribeAvailableCompShareInstanceTypes", { Region: "cn-wlcb", Zone: zone });
        return (r.AvailableInstanceTypes as Obj[]).find((x) => x.Name === "4090")?.Status;
      };
      assert.deepEqual(await capacity(), { 1: true, 2: true, 4: false, 8: false });
      assert.equal(await status(), "Normal");
      assert.equal(
        (await s.call("CreateCompShareInstance", createParams({ GPU: 4, CPU: 64, Memory: 262144 }))).RetCode,
        226604,
      );
      await createRunning(s, { GPU: 2, CPU: 32, Memory: 131072 });
      assert.deepEqual(await capacity(), { 1: false, 2: false, 4: false, 8: false });
      assert.equal(await status(), "SoldOut");
      assert.equal((await s.call("CreateCompShareInstance", createParams())).RetCode, 226604);
      const inv = JSON.parse(
        (await s.call("DescribeCompShareGpuInventory", { Region: "cn-wlcb" })).GpuInventoryByZone as string,
      );
      assert.equal(inv.Exclusive["cn-wlcb-01"]["4090"], 0);
    } finally {
      await s.close();
    }
    // The operator adds a host and restarts on the same data dir: all three see the room at once.
    const grown: Catalog = {
      ...one,
      hosts: [
        ...one.hosts,
        { id: "second", zone: "cn-wlcb-01", gpuType: "4090", gpus: 8, cpu: 128, memoryMB: 524288 },
      ],
    };
    const s2 = await startTestServer({}, { catalog: grown });
    try {
      const r = await s2.call("CheckCompShareResourceCapacity", {
        Region: "cn-wlcb",
        Zone: "cn-wlcb-01",
        GpuType: "4090",
      });
      assert.deepEqual(
        (r.Specs as Array<{ ResourceEnough: boolean }>).map((x) => x.ResourceEnough),
        [true, true, true, true],
      );
      const id = await createRunning(s2, { GPU: 8, CPU: 128, Memory: 524288 });
      const host = await s2.server.internals.db.all("SELECT host_id FROM instances WHERE id = ?", [id]);
      assert.equal(host[0]?.host_id, "second");
    } finally {
      await s2.close();
    }
  });
});

describe("catalog file", () => {
  it("validates with errors that name the path", () => {
    const bad = (mutate: (c: Catalog) => void, re: RegExp) => {
      const c = structuredClone(DEFAULT_CATALOG) as Catalog;
      mutate(c);
      assert.throws(
        () => validateCatalog(c),
        (e: unknown) => e instanceof CatalogError && re.test(e.message),
      );
    };
    bad((c) => {
      c.hosts[0]!.zone = "mars-1";
    }, /hosts\[0\]\.zone: unknown zone mars-1/);
    bad((c) => {
      c.hosts[0]!.gpuType = "Z9";
    }, /hosts\[0\]\.gpuType: unknown GPU type Z9/);
    bad((c) => {
      c.images[0]!.id = "ubuntu";
    }, /images\[0\]\.id: must start with "compshareImage-"/);
    bad((c) => {
      c.images[1]!.runtimeCommand = "sshd -D" as never;
    }, /images\[1\]\.runtimeCommand: must be a non-empty array of strings/);
    bad((c) => {
      c.gpuTypes[0]!.sizes[0]!.memory = [1000];
    }, /gpuTypes\[0\]\.sizes\[0\]\.memory/);
    bad((c) => {
      delete c.prices.gpu["4090"];
    }, /prices\.gpu\.4090: missing price/);
    bad((c) => {
      c.regions[0]!.zones[0]!.chargeTypes = ["Yearly" as never];
    }, /unknown charge type Yearly/);
  });

  it("loads a JSON file (OCS_CATALOG) and refuses a broken one", () => {
    const path = join(t.dataDir, "catalog.json");
    writeFileSync(path, JSON.stringify(DEFAULT_CATALOG));
    assert.equal(loadCatalog(path).hosts.length, DEFAULT_CATALOG.hosts.length);
    writeFileSync(path, "{ not json");
    assert.throws(() => loadCatalog(path), /OCS_CATALOG: cannot read/);
  });
});
