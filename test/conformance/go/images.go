package main

import (
	"github.com/ucloud/ucloud-sdk-go/services/ucompshare"
	"github.com/ucloud/ucloud-sdk-go/ucloud"
	"github.com/ucloud/ucloud-sdk-go/ucloud/request"
)

// imageScenario drives the custom-image actions through the typed client: a JSON type mismatch in
// a response fails its call. Returns the response(s), or the name of the call that failed and its
// error.
func imageScenario(scenario string, typed *ucompshare.UCompShareClient, a args, encode func(request.Common)) (interface{}, string, error) {
	switch scenario {
	case "image-create-typed":
		// CreateCompShareCustomImage with the model's Softwares object (nested params on the wire).
		req := typed.NewCreateCompShareCustomImageRequest()
		req.UHostId = ucloud.String(a.UHostId)
		req.Name = ucloud.String(a.Name)
		req.Description = ucloud.String("made by the Go SDK")
		req.Softwares = &ucompshare.CreateCompShareCustomImageParamSoftwares{
			Application: []string{"jupyter", "vscode"},
			CUDAVersion: ucloud.String("12.1"),
			Framework:   ucloud.String("PyTorch"),
		}
		encode(req)
		resp, err := typed.CreateCompShareCustomImage(req)
		return resp, "create", err
	case "image-typed":
		// Every image read and change of the owner.
		results := map[string]interface{}{}
		prog := typed.NewGetCompShareImageCreateProgressRequest()
		prog.CompShareImageId = ucloud.String(a.ImageId)
		encode(prog)
		r1, err := typed.GetCompShareImageCreateProgress(prog)
		if err != nil {
			return results, "progress", err
		}
		results["progress"] = r1
		list := typed.NewDescribeCompShareCustomImagesRequest()
		list.CompShareImageId = ucloud.String(a.ImageId)
		encode(list)
		r2, err := typed.DescribeCompShareCustomImages(list)
		if err != nil {
			return results, "custom", err
		}
		results["custom"] = r2
		upd := typed.NewUpdateCompShareImageRequest()
		upd.CompShareImageId = ucloud.String(a.ImageId)
		upd.Description = ucloud.String("updated by the Go SDK")
		upd.Tags = []string{"go", "sdk"}
		encode(upd)
		r3, err := typed.UpdateCompShareImage(upd)
		if err != nil {
			return results, "update", err
		}
		results["update"] = r3
		share := typed.NewModifyCompShareImageShareAccountRequest()
		share.CompShareImageId = ucloud.String(a.ImageId)
		share.AddAccounts = []int{a.Account, 1}
		encode(share)
		r4, err := typed.ModifyCompShareImageShareAccount(share)
		if err != nil {
			return results, "share", err
		}
		results["share"] = r4
		accts := typed.NewDescribeCompShareImageShareAccountsRequest()
		accts.CompShareImageId = ucloud.String(a.ImageId)
		encode(accts)
		r5, err := typed.DescribeCompShareImageShareAccounts(accts)
		if err != nil {
			return results, "accounts", err
		}
		results["accounts"] = r5
		return results, "", nil
	case "image-shared-typed":
		req := typed.NewDescribeCompShareSharingImagesRequest()
		encode(req)
		resp, err := typed.DescribeCompShareSharingImages(req)
		return resp, "shared", err
	default: // image-terminate-typed
		req := typed.NewTerminateCompShareCustomImageRequest()
		req.CompShareImageId = ucloud.String(a.ImageId)
		encode(req)
		resp, err := typed.TerminateCompShareCustomImage(req)
		return resp, "terminate", err
	}
}
