// Command conformance drives the official ucloud-sdk-go against a running opencompshare.
//
// Usage: conformance SCENARIO [JSON_ARGS]; env OCS_URL, OCS_PUBLIC_KEY, OCS_PRIVATE_KEY (and
// SSL_CERT_FILE, Go's own variable, for an HTTPS server with a private CA).
// Prints one JSON object: {"ok":true,"resp":...} or {"ok":false,"code":N,"message":"..."}.
// The seed programs are reproduced call for call: InvokeAction with hand-written request/response
// structs (form encoder, and the JSON encoder on request), and the typed ucompshare client.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ucloud/ucloud-sdk-go/services/ucompshare"
	"github.com/ucloud/ucloud-sdk-go/ucloud"
	"github.com/ucloud/ucloud-sdk-go/ucloud/auth"
	uerr "github.com/ucloud/ucloud-sdk-go/ucloud/error"
	"github.com/ucloud/ucloud-sdk-go/ucloud/request"
	"github.com/ucloud/ucloud-sdk-go/ucloud/response"
)

type args struct {
	PrivateKey string `json:"private_key"`
	PublicKey  string `json:"public_key"`
	UHostId    string `json:"uhost_id"`
	Zone       string `json:"zone"`
	JSON       bool   `json:"json"`
	Action     string `json:"action"`
	StopTime   int    `json:"stop_time"`
	ProjectId  string `json:"project_id"`
	ImageId    string `json:"image_id"`
	Name       string `json:"name"`
	Account    int    `json:"account"`
	Cpod       string `json:"cpod"`
	Disk       string `json:"disk"`
	MaxRetries int    `json:"max_retries"`
}

// From the seeds: "如何获取 ProjectId".
type GetProjectListReq struct{ request.CommonBase }
type Project struct {
	ProjectId   string `json:"ProjectId"`
	ProjectName string `json:"ProjectName"`
	IsDefault   bool   `json:"IsDefault"`
}
type GetProjectListResp struct {
	response.CommonBase
	ProjectSet []Project `json:"ProjectSet"`
}

// From the Start/Stop/DeleteStopScheduler seeds.
type UHostIdRequest struct {
	request.CommonBase
	UHostId *string
}
type UHostIdResponse struct {
	response.CommonBase
	UHostId string `json:"UHostId"`
}

// From the DescribeCompShareInstance seed.
type DescribeReq struct {
	request.CommonBase
	UHostIds []string `required:"false"`
	Limit    *int     `required:"false"`
	Offset   *int     `required:"false"`
}
type IPInfo struct {
	IP   string `json:"IP"`
	Type string `json:"Type"`
}
type UHostInstance struct {
	UHostId            string      `json:"UHostId"`
	Name               string      `json:"Name"`
	State              string      `json:"State"`
	Zone               string      `json:"Zone"`
	CPU                int         `json:"CPU"`
	Memory             int         `json:"Memory"`
	GPU                int         `json:"GPU"`
	GpuType            string      `json:"GpuType"`
	ChargeType         string      `json:"ChargeType"`
	OsName             string      `json:"OsName"`
	OsType             string      `json:"OsType"`
	Password           string      `json:"Password"`
	SshLoginCommand    string      `json:"SshLoginCommand"`
	CompShareImageId   string      `json:"CompShareImageId"`
	CompShareImageName string      `json:"CompShareImageName"`
	IPSet              []IPInfo    `json:"IPSet"`
	DiskSet            interface{} `json:"DiskSet"`
}
type DescribeResp struct {
	response.CommonBase
	TotalCount int             `json:"TotalCount"`
	UHostSet   []UHostInstance `json:"UHostSet"`
}

func out(v interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(err error, retCode int, msg string) {
	if e, ok := err.(uerr.Error); ok {
		out(map[string]interface{}{"ok": false, "code": e.Code(), "message": e.Message()})
		return
	}
	out(map[string]interface{}{"ok": false, "code": retCode, "message": msg + " / " + err.Error()})
}

func main() {
	scenario := os.Args[1]
	var a args
	if len(os.Args) > 2 {
		if err := json.Unmarshal([]byte(os.Args[2]), &a); err != nil {
			panic(err)
		}
	}
	cfg := ucloud.NewConfig()
	cfg.Region = "cn-wlcb"
	cfg.BaseUrl = os.Getenv("OCS_URL")
	// Retries as the SDK does them (RetCode >= 2000, backoff 4^n x 100-199 ms); 0 = none.
	cfg.MaxRetries = a.MaxRetries
	if a.Zone != "" {
		cfg.Zone = a.Zone
	}
	if a.ProjectId != "" {
		cfg.ProjectId = a.ProjectId
	}
	credential := auth.NewCredential()
	credential.PublicKey = os.Getenv("OCS_PUBLIC_KEY")
	credential.PrivateKey = os.Getenv("OCS_PRIVATE_KEY")
	if a.PrivateKey != "" {
		credential.PrivateKey = a.PrivateKey
	}
	if a.PublicKey != "" {
		credential.PublicKey = a.PublicKey
	}
	client := ucloud.NewClient(&cfg, &credential)
	typed := ucompshare.NewClient(&cfg, &credential)

	encode := func(req request.Common) {
		if a.JSON {
			req.SetEncoder(request.NewJSONEncoder(&cfg, &credential))
		}
	}

	switch scenario {
	case "projects":
		req := &GetProjectListReq{}
		client.SetupRequest(req)
		encode(req)
		resp := &GetProjectListResp{}
		if err := client.InvokeAction("GetProjectList", req, resp); err != nil {
			fail(err, resp.RetCode, resp.Message)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "invoke-uhost":
		// Start/Stop/DeleteCompShareStopScheduler as in the seeds.
		req := &UHostIdRequest{UHostId: ucloud.String(a.UHostId)}
		req.SetRegion("cn-wlcb")
		if a.Zone != "" {
			req.SetZone(a.Zone)
		}
		client.SetupRequest(req)
		encode(req)
		resp := &UHostIdResponse{}
		if err := client.InvokeAction(a.Action, req, resp); err != nil {
			fail(err, resp.RetCode, resp.Message)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "describe-seed":
		req := &DescribeReq{Limit: ucloud.Int(20), Offset: ucloud.Int(0)}
		if a.UHostId != "" {
			req.UHostIds = []string{a.UHostId}
		}
		req.SetRegion("cn-wlcb")
		client.SetupRequest(req)
		encode(req)
		resp := &DescribeResp{}
		if err := client.InvokeAction("DescribeCompShareInstance", req, resp); err != nil {
			fail(err, resp.RetCode, resp.Message)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "describe-typed":
		// The full model: one JSON type mismatch anywhere fails this call.
		req := typed.NewDescribeCompShareInstanceRequest()
		if a.UHostId != "" {
			req.UHostIds = []string{a.UHostId}
		}
		encode(req)
		resp, err := typed.DescribeCompShareInstance(req)
		if err != nil {
			fail(err, -1, "")
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "terminate-typed":
		// The Terminate seed: typed client, Zone from cfg.
		req := typed.NewTerminateCompShareInstanceRequest()
		req.UHostId = ucloud.String(a.UHostId)
		encode(req)
		resp, err := typed.TerminateCompShareInstance(req)
		if err != nil {
			fail(err, -1, "")
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "create-typed":
		req := typed.NewCreateCompShareInstanceRequest()
		req.Zone = ucloud.String("cn-wlcb-01")
		req.GpuType = ucloud.String("4090")
		req.GPU = ucloud.Int(1)
		req.CPU = ucloud.Int(16)
		req.Memory = ucloud.Int(65536)
		req.MachineType = ucloud.String("G")
		req.CompShareImageId = ucloud.String("compshareImage-ubuntu2204")
		req.ChargeType = ucloud.String("Postpay")
		req.Disks = []ucompshare.CreateCompShareInstanceParamDisks{{IsBoot: ucloud.Bool(true), Type: ucloud.String("CLOUD_SSD"), Size: ucloud.Int(60)}}
		encode(req)
		resp, err := typed.CreateCompShareInstance(req)
		if err != nil {
			fail(err, -1, "")
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "stop-scheduler-typed":
		req := typed.NewUpdateCompShareStopSchedulerRequest()
		req.UHostId = ucloud.String(a.UHostId)
		req.StopTime = ucloud.Int(a.StopTime)
		encode(req)
		resp, err := typed.UpdateCompShareStopScheduler(req)
		if err != nil {
			fail(err, -1, "")
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "catalog-typed":
		// Every catalog action through the typed client: a JSON type mismatch fails the call.
		results := map[string]interface{}{}
		check := func(name string, resp interface{}, err error) bool {
			if err != nil {
				fail(err, -1, name)
				return false
			}
			results[name] = resp
			return true
		}
		types := typed.NewDescribeAvailableCompShareInstanceTypesRequest()
		encode(types)
		r1, err := typed.DescribeAvailableCompShareInstanceTypes(types)
		if !check("types", r1, err) {
			return
		}
		inv := typed.NewDescribeCompShareGpuInventoryRequest()
		encode(inv)
		r2, err := typed.DescribeCompShareGpuInventory(inv)
		if !check("inventory", r2, err) {
			return
		}
		imgs := typed.NewDescribeCompShareImagesRequest()
		encode(imgs)
		r3, err := typed.DescribeCompShareImages(imgs)
		if !check("images", r3, err) {
			return
		}
		price := typed.NewGetCompShareInstancePriceRequest()
		price.GpuType = ucloud.String("4090")
		price.Gpu = ucloud.String("1")
		price.Cpu = ucloud.String("16")
		price.Memory = ucloud.String("65536")
		price.ChargeType = ucloud.String("Postpay")
		encode(price)
		r4, err := typed.GetCompShareInstancePrice(price)
		if !check("price", r4, err) {
			return
		}
		user := typed.NewGetCompShareInstanceUserPriceRequest()
		user.GpuType = ucloud.String("4090")
		encode(user)
		r5, err := typed.GetCompShareInstanceUserPrice(user)
		if !check("userPrice", r5, err) {
			return
		}
		// Documented drift: the Go model types MachineTypes as []string, the docs and the official
		// CLI read objects {Name, Description}; the server follows the docs, so this typed call fails
		// with a JSON type error, which the test asserts (README records it).
		fam := typed.NewDescribeCompShareMachineTypeFamiliesRequest()
		encode(fam)
		if _, err := typed.DescribeCompShareMachineTypeFamilies(fam); err != nil {
			results["familiesTypedError"] = err.Error()
		}
		zones := typed.NewDescribeCompShareSupportZoneRequest()
		encode(zones)
		r7, err := typed.DescribeCompShareSupportZone(zones)
		if !check("zones", r7, err) {
			return
		}
		out(map[string]interface{}{"ok": true, "resp": results})
	case "image-create-typed", "image-typed", "image-shared-typed", "image-terminate-typed":
		resp, step, err := imageScenario(scenario, typed, a, encode)
		if err != nil {
			fail(err, -1, step)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "usage-typed":
		results, step, err := usageTyped(typed, client, a, encode)
		if err != nil {
			fail(err, -1, step)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": results})
	case "disk-typed":
		resp, err := diskStep(typed, a, encode)
		if err != nil {
			fail(err, -1, a.Action)
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp})
	case "generic":
		// Any action with no params, through the generic request (tests 160/161).
		req := client.NewGenericRequest()
		_ = req.SetAction(a.Action)
		encode(req)
		resp, err := client.GenericInvoke(req)
		if err != nil {
			fail(err, -1, "")
			return
		}
		out(map[string]interface{}{"ok": true, "resp": resp.GetPayload()})
	default:
		panic("unknown scenario " + scenario)
	}
}
