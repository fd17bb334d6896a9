package main

import (
	"github.com/ucloud/ucloud-sdk-go/services/ucompshare"
	"github.com/ucloud/ucloud-sdk-go/ucloud"
	"github.com/ucloud/ucloud-sdk-go/ucloud/request"
)

// usageTyped drives the disk, monitoring, port and price actions through the typed client: a JSON
// type mismatch in a response fails its call. CreateAndAttachCompshareDisk and
// DescribeCompshareDisk are not in the Go SDK: the generic request makes and lists the disk.
// Returns every response, or the name of the call that failed and its error.
func usageTyped(typed *ucompshare.UCompShareClient, client *ucloud.Client, a args, encode func(request.Common)) (map[string]interface{}, string, error) {
	results := map[string]interface{}{}
	generic := func(action string, payload map[string]interface{}) (map[string]interface{}, error) {
		req := client.NewGenericRequest()
		_ = req.SetAction(action)
		_ = req.SetPayload(payload)
		encode(req)
		resp, err := client.GenericInvoke(req)
		if err != nil {
			return nil, err
		}
		return resp.GetPayload(), nil
	}
	made, err := generic("CreateAndAttachCompshareDisk", map[string]interface{}{
		"Region": "cn-wlcb", "Zone": "cn-wlcb-01", "UHostId": a.UHostId, "Size": 40, "Name": "go-disk", "ChargeType": "Postpay",
	})
	if err != nil {
		return results, "createAndAttach", err
	}
	disk, _ := made["UDiskId"].(string)
	results["created"] = made

	price := typed.NewGetCompShareAttachedDiskUpgradePriceRequest()
	price.UHostId = ucloud.String(a.UHostId)
	price.DiskId = ucloud.String(disk)
	price.DiskSpace = ucloud.String("100")
	encode(price)
	r1, err := typed.GetCompShareAttachedDiskUpgradePrice(price)
	if err != nil {
		return results, "diskPrice", err
	}
	results["diskPrice"] = r1

	mon := typed.NewGetCompShareInstanceMonitorRequest()
	mon.UHostIds = []string{a.UHostId}
	encode(mon)
	if _, err := typed.GetCompShareInstanceMonitor(mon); err != nil {
		return results, "monitor", err
	}

	sw := typed.NewDescribeCompShareSoftwarePortRequest()
	encode(sw)
	r3, err := typed.DescribeCompShareSoftwarePort(sw)
	if err != nil {
		return results, "softwarePort", err
	}
	results["softwarePort"] = r3

	up := typed.NewGetCompShareInstanceUpgradePriceRequest()
	up.UHostId = ucloud.String(a.UHostId)
	up.Gpu = ucloud.Int(2)
	up.Cpu = ucloud.Int(32)
	up.Memory = ucloud.Int(131072)
	encode(up)
	r4, err := typed.GetCompShareInstanceUpgradePrice(up)
	if err != nil {
		return results, "upgradePrice", err
	}
	results["upgradePrice"] = r4

	refund := typed.NewGetCompShareRefundPriceRequest()
	refund.UHostIds = []string{a.UHostId, "uhost-nothere"}
	encode(refund)
	r5, err := typed.GetCompShareRefundPrice(refund)
	if err != nil {
		return results, "refund", err
	}
	results["refund"] = r5

	if a.Cpod != "" {
		ports := typed.NewUpdateCompShareInstancePortsRequest()
		ports.UHostId = ucloud.String(a.Cpod)
		ports.HttpPorts = []int{8188}
		ports.TcpPorts = []int{2323}
		encode(ports)
		r6, err := typed.UpdateCompShareInstancePorts(ports)
		if err != nil {
			return results, "ports", err
		}
		results["ports"] = r6
	}
	return results, "", nil
}

// diskStep runs one typed disk call on a.Disk: attach to or detach from a.UHostId, resize, or
// delete (the test waits for each operation to finish before the next).
func diskStep(typed *ucompshare.UCompShareClient, a args, encode func(request.Common)) (interface{}, error) {
	switch a.Action {
	case "detach":
		req := typed.NewDetachCompshareDiskRequest()
		req.UHostId = ucloud.String(a.UHostId)
		req.UDiskId = ucloud.String(a.Disk)
		encode(req)
		return typed.DetachCompshareDisk(req)
	case "attach":
		req := typed.NewAttachCompshareDiskRequest()
		req.UHostId = ucloud.String(a.UHostId)
		req.UDiskId = ucloud.String(a.Disk)
		encode(req)
		return typed.AttachCompshareDisk(req)
	case "resize":
		req := typed.NewResizeCompShareDiskRequest()
		req.UDiskId = ucloud.String(a.Disk)
		req.Size = ucloud.Int(200)
		encode(req)
		return typed.ResizeCompShareDisk(req)
	default:
		// The SDK marks OrganizationID and TopOrganizationID required; the docs and the official CLI
		// send neither, and the server ignores them.
		req := typed.NewDeleteCompshareDiskRequest()
		req.UDiskId = ucloud.String(a.Disk)
		req.OrganizationID = ucloud.Int(0)
		req.TopOrganizationID = ucloud.Int(0)
		encode(req)
		return typed.DeleteCompshareDisk(req)
	}
}
