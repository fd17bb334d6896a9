import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseUrlEncoded } from "./params.js";
import type { WireValue } from "./signature.js";
import { byteOrder, computeSignature, signString, signatureMatches } from "./signature.js";

const PRIVATE = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

describe("signature (reference §1.3 test vectors)", () => {
  it("official UCloud vector: DescribeUHostInstance", () => {
    const params = {
      Action: "DescribeUHostInstance",
      Region: "cn-bj2",
      Limit: "10",
      PublicKey: "ucloudsomeone@example.com1296235120854146120",
    };
    assert.equal(computeSignature(params, PRIVATE), "cba5cf5ec4d4233d206b1b54951e3787350a642f");
  });

  it("same with a different PublicKey", () => {
    const params = {
      Action: "DescribeUHostInstance",
      Region: "cn-bj2",
      Limit: "10",
      PublicKey: "someone@example.com1296235120854146120",
    };
    assert.equal(computeSignature(params, PRIVATE), "4201919d267504385deb93af19e0197870fed36b");
  });

  it("Go SDK credential_test: CreateUHostInstance query (keys in any order)", () => {
    const query =
      "Action=CreateUHostInstance&CPU=2&ChargeType=Month&DiskSpace=10&ImageId=f43736e1-65a5-4bea-ad2e-8a46e18883c2" +
      "&LoginMode=Password&Memory=2048&Name=Host01&Password=VUNsb3VkLmNu" +
      "&PublicKey=ucloudsomeone%40example.com1296235120854146120&Quantity=1&Region=cn-bj2&Zone=cn-bj2-04";
    const params = Object.fromEntries(parseUrlEncoded(query, "q").reverse());
    assert.equal(computeSignature(params, PRIVATE), "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65");
  });

  it("Python SDK doctests: {foo: bar} without and with PublicKey", () => {
    assert.equal(
      computeSignature({ foo: "bar" }, "my_private_key"),
      "634edc1bb957c0d65e5ab5494cf3b7784fbc87af",
    );
    assert.equal(
      computeSignature({ foo: "bar", PublicKey: "my_public_key" }, "my_private_key"),
      "d4411ab30953fb0bbcb1e7313081f05e4e91a394",
    );
  });

  it("Go JSON encoder: nested arrays/objects, floats, null (computed by ucloud-sdk-go v0.22.90 auth.CalculateSignature)", () => {
    const body = JSON.parse(
      '{"Action":"CreateCompShareInstance","Region":"cn-wlcb","Zone":"cn-wlcb-01","GPU":1,"Memory":65536,"Price":42.1,"Small":0.0000001,"Flag":true,"Nil":null,"UHostIds":["uhost-a","uhost-b"],"Disks":[{"IsBoot":true,"Size":50,"Type":"CLOUD_SSD"},{"IsBoot":false,"Size":100,"Type":"CLOUD_SSD"}],"Softwares":{"CUDAVersion":"12.4","Application":["jupyter","ssh"]},"PublicKey":"my_public_key"}',
    ) as Record<string, WireValue>;
    assert.equal(computeSignature(body, "my_private_key"), "17b7bdc9847cbcddab8ba836420c7418d3e15699");
  });

  it("stringifies like the SDKs", () => {
    assert.equal(signString(true), "true");
    assert.equal(signString(42), "42");
    assert.equal(signString(42.1), "42.1");
    assert.equal(signString(1e-7), "0.0000001");
    assert.equal(signString(null), "");
    assert.equal(signString({ b: "2", a: ["x", 1] }), "ax1b2");
  });

  it("ignores Signature itself and compares in constant time", () => {
    const sig = computeSignature({ foo: "bar" }, "k");
    assert.equal(computeSignature({ foo: "bar", Signature: "zzz" }, "k"), sig);
    assert.ok(signatureMatches(sig.toUpperCase(), sig));
    assert.ok(!signatureMatches(sig.slice(1), sig));
    assert.ok(!signatureMatches(`${sig.slice(0, -1)}0`, sig) || sig.endsWith("0"));
  });

  it("a value signed as true but sent as True does not verify (the [3P] failure mode)", () => {
    const signed = computeSignature({ Force: "true" }, "k");
    assert.notEqual(computeSignature({ Force: "True" }, "k"), signed);
  });
});

describe("byteOrder", () => {
  it("orders as UTF-8 bytes do, on ASCII, BMP and astral text alike", () => {
    const samples = [
      "",
      "a",
      "B",
      "ab",
      "a1",
      "Zone",
      "Zone.0",
      "é",
      "中",
      "\uffff",
      "😀",
      "a😀",
      "a\ue000",
      "\ue000",
    ];
    for (const a of samples)
      for (const b of samples) {
        const want = Math.sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        assert.equal(Math.sign(byteOrder(a, b)), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
  });
});
