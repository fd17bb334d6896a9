import { MAX_COUNT } from "../../core/instances/create.js";
import { badParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * CreateCompShareInstance (reference §3.1 "Create details"). Non-retryable in the Go SDK.
 * `MaxCount` identical instances are created in one transaction (all placed or none).
 */
export default defineAction({
  name: "CreateCompShareInstance",
  schema: {
    GpuType: f.str({ required: true }),
    GPU: f.int({ required: true, min: 1, max: 10 }),
    CPU: f.int({ required: true, min: 1, max: 1024 }),
    Memory: f.int({ required: true, min: 1024, max: 262144 * 8 }),
    MachineType: f.str(),
    MinimalCpuPlatform: f.str(),
    CompShareImageId: f.str({ required: true }),
    Disks: f.arr(
      f.obj({
        IsBoot: f.bool({ required: true }),
        Type: f.str({ required: true }),
        Size: f.int({ required: true, min: 1 }),
      }),
      {
        maxItems: 5,
      },
    ),
    ChargeType: f.str({ oneOf: ["Month", "Day", "Dynamic", "Postpay", "Spot"] }),
    Quantity: f.int({ min: 0, max: 120 }),
    LoginMode: f.str({ oneOf: ["Password"] }),
    Password: f.str(),
    Name: f.str(),
    // Accepted and not modelled (README): no firewalls (every published port is open), no coupons.
    SecurityGroupId: f.str(),
    CouponId: f.str(),
    EnableUS3: f.bool(),
    // The docs and the official CLI send these; the Go SDK model has neither.
    Remark: f.str(),
    MaxCount: f.int({ min: 1, max: MAX_COUNT }),
    EnableCfs: f.bool(),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    // No object storage (US3) or cloud file storage (CFS) is offered here: asking for one is an
    // error, not a silent no; asking for none is fine.
    if (p.EnableUS3 === true)
      throw badParam("EnableUS3", "US3 object storage is not offered by this service");
    if (p.EnableCfs === true)
      throw badParam("EnableCfs", "CFS cloud file storage is not offered by this service");
    const scope = await ctx.scope();
    const ids = await ctx.services.instances.create(scope, {
      zone: ctx.zone as string,
      gpuType: p.GpuType,
      gpu: p.GPU,
      cpu: p.CPU,
      memory: p.Memory,
      machineType: p.MachineType,
      minimalCpuPlatform: p.MinimalCpuPlatform,
      imageId: p.CompShareImageId,
      disks: p.Disks?.map((d, i) => ({ isBoot: d.IsBoot, type: d.Type, size: d.Size, param: `Disks.${i}` })),
      chargeType: p.ChargeType,
      quantity: p.Quantity,
      password: p.Password,
      name: p.Name,
      remark: p.Remark,
      maxCount: p.MaxCount,
    });
    return { UHostIds: ids };
  },
});
