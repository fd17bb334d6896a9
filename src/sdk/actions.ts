// Type-only imports: the SDK's request and response types come from the server's own action
// definitions, so they are written once. They are erased at compile time, so the SDK carries no
// server code at run time.
import type getProjectList from "../actions/account/get-project-list.js";
import type getRegion from "../actions/account/get-region.js";
import type checkCompShareResourceCapacity from "../actions/catalog/check-comp-share-resource-capacity.js";
import type describeAvailableCompShareInstanceTypes from "../actions/catalog/describe-available-comp-share-instance-types.js";
import type describeCompShareGpuInventory from "../actions/catalog/describe-comp-share-gpu-inventory.js";
import type describeCompShareImages from "../actions/catalog/describe-comp-share-images.js";
import type describeCompShareMachineTypeFamilies from "../actions/catalog/describe-comp-share-machine-type-families.js";
import type describeCompShareSupportZone from "../actions/catalog/describe-comp-share-support-zone.js";
import type getCompShareInstancePrice from "../actions/catalog/get-comp-share-instance-price.js";
import type getCompShareInstanceUserPrice from "../actions/catalog/get-comp-share-instance-user-price.js";
import type * as emulator from "../actions/emulator/emulator.js";
import type createCompShareInstance from "../actions/instances/create-comp-share-instance.js";
import type deleteCompShareStopScheduler from "../actions/instances/delete-comp-share-stop-scheduler.js";
import type describeCompShareInstance from "../actions/instances/describe-comp-share-instance.js";
import type describeCompShareRecycleInstance from "../actions/instances/describe-comp-share-recycle-instance.js";
import type modifyCompShareInstanceName from "../actions/instances/modify-comp-share-instance-name.js";
import type rebootCompShareInstance from "../actions/instances/reboot-comp-share-instance.js";
import type recoverCompShareInstance from "../actions/instances/recover-comp-share-instance.js";
import type reinstallCompShareInstance from "../actions/instances/reinstall-comp-share-instance.js";
import type resetCompShareInstancePassword from "../actions/instances/reset-comp-share-instance-password.js";
import type resizeCompShareInstance from "../actions/instances/resize-comp-share-instance.js";
import type startCompShareInstance from "../actions/instances/start-comp-share-instance.js";
import type stopCompShareInstance from "../actions/instances/stop-comp-share-instance.js";
import type terminateCompShareInstance from "../actions/instances/terminate-comp-share-instance.js";
import type updateCompShareStopScheduler from "../actions/instances/update-comp-share-stop-scheduler.js";
import type { ParamsOf, ResultOf } from "../actions/types.js";

type Entry<D> = { params: ParamsOf<D>; result: ResultOf<D> };

/** Every Action the server implements, with its request parameters and response fields. */
export interface ActionTypes {
  GetProjectList: Entry<typeof getProjectList>;
  GetRegion: Entry<typeof getRegion>;
  DescribeCompShareSupportZone: Entry<typeof describeCompShareSupportZone>;
  DescribeAvailableCompShareInstanceTypes: Entry<typeof describeAvailableCompShareInstanceTypes>;
  CheckCompShareResourceCapacity: Entry<typeof checkCompShareResourceCapacity>;
  DescribeCompShareGpuInventory: Entry<typeof describeCompShareGpuInventory>;
  DescribeCompShareImages: Entry<typeof describeCompShareImages>;
  DescribeCompShareMachineTypeFamilies: Entry<typeof describeCompShareMachineTypeFamilies>;
  GetCompShareInstancePrice: Entry<typeof getCompShareInstancePrice>;
  GetCompShareInstanceUserPrice: Entry<typeof getCompShareInstanceUserPrice>;
  CreateCompShareInstance: Entry<typeof createCompShareInstance>;
  DescribeCompShareInstance: Entry<typeof describeCompShareInstance>;
  StartCompShareInstance: Entry<typeof startCompShareInstance>;
  StopCompShareInstance: Entry<typeof stopCompShareInstance>;
  RebootCompShareInstance: Entry<typeof rebootCompShareInstance>;
  TerminateCompShareInstance: Entry<typeof terminateCompShareInstance>;
  ReinstallCompShareInstance: Entry<typeof reinstallCompShareInstance>;
  ResizeCompShareInstance: Entry<typeof resizeCompShareInstance>;
  ResetCompShareInstancePassword: Entry<typeof resetCompShareInstancePassword>;
  ModifyCompShareInstanceName: Entry<typeof modifyCompShareInstanceName>;
  UpdateCompShareStopScheduler: Entry<typeof updateCompShareStopScheduler>;
  DeleteCompShareStopScheduler: Entry<typeof deleteCompShareStopScheduler>;
  DescribeCompShareRecycleInstance: Entry<typeof describeCompShareRecycleInstance>;
  RecoverCompShareInstance: Entry<typeof recoverCompShareInstance>;
  EmulatorAdvanceClock: Entry<typeof emulator.advanceClock>;
  EmulatorSetLatency: Entry<typeof emulator.setLatency>;
  EmulatorInjectFault: Entry<typeof emulator.injectFault>;
  EmulatorClearFaults: Entry<typeof emulator.clearFaults>;
  EmulatorReset: Entry<typeof emulator.reset>;
  EmulatorStatus: Entry<typeof emulator.status>;
}

export type ActionName = keyof ActionTypes;

/** The same names at run time (a test checks this list against the server's registry). */
export const ACTION_NAMES: readonly ActionName[] = [
  "GetProjectList",
  "GetRegion",
  "DescribeCompShareSupportZone",
  "DescribeAvailableCompShareInstanceTypes",
  "CheckCompShareResourceCapacity",
  "DescribeCompShareGpuInventory",
  "DescribeCompShareImages",
  "DescribeCompShareMachineTypeFamilies",
  "GetCompShareInstancePrice",
  "GetCompShareInstanceUserPrice",
  "CreateCompShareInstance",
  "DescribeCompShareInstance",
  "StartCompShareInstance",
  "StopCompShareInstance",
  "RebootCompShareInstance",
  "TerminateCompShareInstance",
  "ReinstallCompShareInstance",
  "ResizeCompShareInstance",
  "ResetCompShareInstancePassword",
  "ModifyCompShareInstanceName",
  "UpdateCompShareStopScheduler",
  "DeleteCompShareStopScheduler",
  "DescribeCompShareRecycleInstance",
  "RecoverCompShareInstance",
  "EmulatorAdvanceClock",
  "EmulatorSetLatency",
  "EmulatorInjectFault",
  "EmulatorClearFaults",
  "EmulatorReset",
  "EmulatorStatus",
];
