import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** CreateCompShareInstance (reference §3.1 "Create details"). Non-retryable in the Go SDK. */
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
    SecurityGroupId: f.str(),
    EnableUS3: f.bool(),
    CouponId: f.str(),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
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
    });
    return { UHostIds: ids };
  },
});
