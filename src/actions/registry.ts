import getProjectList from "./account/get-project-list.js";
import getRegion from "./account/get-region.js";
import * as admin from "./admin/accounts.js";
import adminDescribeHosts from "./admin/describe-hosts.js";
import describeAuditLog from "./audit/describe-audit-log.js";
import checkCompShareResourceCapacity from "./catalog/check-comp-share-resource-capacity.js";
import describeAvailableCompShareInstanceTypes from "./catalog/describe-available-comp-share-instance-types.js";
import describeCompShareGpuInventory from "./catalog/describe-comp-share-gpu-inventory.js";
import describeCompShareImages from "./catalog/describe-comp-share-images.js";
import describeCompShareMachineTypeFamilies from "./catalog/describe-comp-share-machine-type-families.js";
import describeCompShareSupportZone from "./catalog/describe-comp-share-support-zone.js";
import getCompShareInstancePrice from "./catalog/get-comp-share-instance-price.js";
import getCompShareInstanceUpgradePrice from "./catalog/get-comp-share-instance-upgrade-price.js";
import getCompShareInstanceUserPrice from "./catalog/get-comp-share-instance-user-price.js";
import getCompShareRefundPrice from "./catalog/get-comp-share-refund-price.js";
import attachCompshareDisk from "./disks/attach-compshare-disk.js";
import createAndAttachCompshareDisk from "./disks/create-and-attach-compshare-disk.js";
import deleteCompshareDisk from "./disks/delete-compshare-disk.js";
import describeCompshareDisk from "./disks/describe-compshare-disk.js";
import detachCompshareDisk from "./disks/detach-compshare-disk.js";
import getCompShareAttachedDiskUpgradePrice from "./disks/get-comp-share-attached-disk-upgrade-price.js";
import resizeCompShareDisk from "./disks/resize-comp-share-disk.js";
import * as emulator from "./emulator/emulator.js";
import createCompShareCustomImage from "./images/create-comp-share-custom-image.js";
import describeCompShareCustomImages from "./images/describe-comp-share-custom-images.js";
import describeCompShareImageShareAccounts from "./images/describe-comp-share-image-share-accounts.js";
import describeCompShareSharingImages from "./images/describe-comp-share-sharing-images.js";
import getCompShareImageCreateProgress from "./images/get-comp-share-image-create-progress.js";
import modifyCompShareImageShareAccount from "./images/modify-comp-share-image-share-account.js";
import terminateCompShareCustomImage from "./images/terminate-comp-share-custom-image.js";
import updateCompShareImage from "./images/update-comp-share-image.js";
import createCompShareInstance from "./instances/create-comp-share-instance.js";
import deleteCompShareStopScheduler from "./instances/delete-comp-share-stop-scheduler.js";
import describeCompShareInstanceActions from "./instances/describe-comp-share-instance-actions.js";
import describeCompShareInstanceEvents from "./instances/describe-comp-share-instance-events.js";
import describeCompShareInstance from "./instances/describe-comp-share-instance.js";
import describeCompShareRecycleInstance from "./instances/describe-comp-share-recycle-instance.js";
import describeCompShareSoftwarePort from "./instances/describe-comp-share-software-port.js";
import modifyCompShareInstanceName from "./instances/modify-comp-share-instance-name.js";
import rebootCompShareInstance from "./instances/reboot-comp-share-instance.js";
import recoverCompShareInstance from "./instances/recover-comp-share-instance.js";
import reinstallCompShareInstance from "./instances/reinstall-comp-share-instance.js";
import resetCompShareInstancePassword from "./instances/reset-comp-share-instance-password.js";
import resizeCompShareInstance from "./instances/resize-comp-share-instance.js";
import startCompShareInstance from "./instances/start-comp-share-instance.js";
import stopCompShareInstance from "./instances/stop-comp-share-instance.js";
import terminateCompShareInstance from "./instances/terminate-comp-share-instance.js";
import updateCompShareInstancePorts from "./instances/update-comp-share-instance-ports.js";
import updateCompShareStopScheduler from "./instances/update-comp-share-stop-scheduler.js";
import getCompShareInstanceMonitor from "./monitor/get-comp-share-instance-monitor.js";
import type { ActionDef } from "./types.js";

/**
 * Every Action the server implements. The README's action table lists exactly these (a test
 * checks it), and the TypeScript SDK's typed methods are derived from this list's types.
 */
export const ACTIONS = [
  getProjectList,
  getRegion,
  describeCompShareSupportZone,
  describeAvailableCompShareInstanceTypes,
  checkCompShareResourceCapacity,
  describeCompShareGpuInventory,
  describeCompShareImages,
  describeCompShareMachineTypeFamilies,
  getCompShareInstancePrice,
  getCompShareInstanceUserPrice,
  createCompShareInstance,
  describeCompShareInstance,
  startCompShareInstance,
  stopCompShareInstance,
  rebootCompShareInstance,
  terminateCompShareInstance,
  reinstallCompShareInstance,
  resizeCompShareInstance,
  resetCompShareInstancePassword,
  modifyCompShareInstanceName,
  updateCompShareStopScheduler,
  deleteCompShareStopScheduler,
  describeCompShareRecycleInstance,
  recoverCompShareInstance,
  createCompShareCustomImage,
  getCompShareImageCreateProgress,
  describeCompShareCustomImages,
  updateCompShareImage,
  terminateCompShareCustomImage,
  modifyCompShareImageShareAccount,
  describeCompShareImageShareAccounts,
  describeCompShareSharingImages,
  describeCompshareDisk,
  createAndAttachCompshareDisk,
  attachCompshareDisk,
  detachCompshareDisk,
  resizeCompShareDisk,
  deleteCompshareDisk,
  getCompShareAttachedDiskUpgradePrice,
  getCompShareInstanceMonitor,
  describeCompShareSoftwarePort,
  updateCompShareInstancePorts,
  getCompShareInstanceUpgradePrice,
  getCompShareRefundPrice,
  describeAuditLog,
  emulator.advanceClock,
  emulator.setLatency,
  emulator.injectFault,
  emulator.setLoad,
  emulator.clearFaults,
  emulator.reset,
  emulator.status,
  describeCompShareInstanceEvents,
  describeCompShareInstanceActions,
  admin.describeAccounts,
  admin.createAccount,
  admin.createKeyPair,
  admin.createProject,
  admin.updateKeyPair,
  admin.updateAccount,
  adminDescribeHosts,
] as const;

/** Wire name → Action, for the gateway. */
export function actionMap(): Map<string, ActionDef> {
  return new Map(ACTIONS.map((a) => [a.name, a as unknown as ActionDef]));
}
