import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ErrorBox, Field, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { b64, chargeUnit, gb, money } from "../lib/format.js";
import { chargeLabel, t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { navigate } from "../lib/router.js";
import { api } from "../lib/session.js";

interface Spec {
  gpu: number;
  cpu: number;
  memory: number;
}

/** Every GPU/CPU/memory combination a type offers (memory in MB, as Create takes it). */
function specsOf(type: Answer | undefined): Spec[] {
  const out: Spec[] = [];
  for (const size of (type?.MachineSizes ?? []) as Answer[])
    for (const c of size.Collection as Answer[])
      for (const m of c.Memory as number[]) out.push({ gpu: size.Gpu, cpu: c.Cpu, memory: m * 1024 });
  return out;
}

const sameSpec = (a: Spec | undefined, b: Spec) =>
  a?.gpu === b.gpu && a.cpu === b.cpu && a.memory === b.memory;

/**
 * The create wizard: zone → GPU type → size (with live stock) → image → disks → charge type (each
 * with its live price) → name and password; Create, then the instance page follows it live.
 */
export function CreateWizard({ query }: { query: URLSearchParams }) {
  useLang();
  const wanted = query.get("image") ?? "";
  const [zone, setZone] = useState("");
  const [gpuType, setGpuType] = useState("");
  const [spec, setSpec] = useState<Spec | undefined>();
  const [imageKind, setImageKind] = useState(wanted ? "Custom" : "System");
  const [image, setImage] = useState(wanted);
  const [boot, setBoot] = useState(50);
  const [dataDisks, setDataDisks] = useState<Array<{ key: number; size: number }>>([]);
  const [charge, setCharge] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const zones = useAsync(
    async () => (await api().call("DescribeCompShareSupportZone")).ZoneInfo as Answer[],
    [],
  );
  useEffect(() => {
    if (!zone && zones.data?.[0]) setZone(zones.data[0].Zone);
  }, [zones.data, zone]);

  const types = useAsync(
    async () =>
      zone
        ? ((await api().call("DescribeAvailableCompShareInstanceTypes", { Zone: zone }))
            .AvailableInstanceTypes as Answer[])
        : [],
    [zone],
  );
  const inventory = useAsync(async () => {
    const r = await api().call("DescribeCompShareGpuInventory");
    const parsed = JSON.parse(String(r.GpuInventoryByZone || "{}")) as {
      Exclusive?: Record<string, Record<string, number>>;
    };
    return parsed.Exclusive ?? {};
  }, []);
  const type = (types.data ?? []).find((x) => x.Name === gpuType);
  useEffect(() => {
    if (types.data && !type)
      setGpuType((types.data.find((x) => x.Status === "Normal") ?? types.data[0])?.Name ?? "");
  }, [types.data, type]);

  const capacity = useAsync(
    async () =>
      zone && gpuType
        ? ((await api().call("CheckCompShareResourceCapacity", { Zone: zone, GpuType: gpuType }))
            .Specs as Answer[])
        : [],
    [zone, gpuType],
  );
  const specs = useMemo(() => specsOf(type), [type]);
  const enough = (s: Spec) =>
    (capacity.data ?? []).some(
      (c) => c.Gpu === s.gpu && c.Cpu === s.cpu && c.Mem * 1024 === s.memory && c.ResourceEnough === true,
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: picks a size only when the sizes or the stock change.
  useEffect(() => {
    if (specs.length && !specs.some((s) => sameSpec(spec, s))) setSpec(specs.find(enough) ?? specs[0]);
  }, [specs, capacity.data]);

  // Stock is live: GPUs taken or released anywhere refresh it.
  useLiveEvents(
    useMemo(
      () =>
        batcher(300, () => {
          void capacity.reload();
          void inventory.reload();
        }),
      [capacity.reload, inventory.reload],
    ),
  );

  // Platform images by type; custom ones (the account's own, or shared with it) once Available.
  const images = useAsync(async () => {
    const custom = { Custom: "DescribeCompShareCustomImages", Shared: "DescribeCompShareSharingImages" }[
      imageKind
    ];
    if (!custom)
      return (await api().call("DescribeCompShareImages", { ImageType: imageKind, Limit: 100 }))
        .ImageSet as Answer[];
    return ((await api().call(custom, { Limit: 100 })).ImageSet as Answer[]).filter(
      (i) => i.Status === "Available",
    );
  }, [imageKind]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: picks an image only when the list changes.
  useEffect(() => {
    if (images.data && !images.data.some((i) => i.CompShareImageId === image))
      setImage(images.data[0]?.CompShareImageId ?? "");
  }, [images.data]);

  const bootMax = Number((type?.Disks as Answer[] | undefined)?.[0]?.BootDisk?.[0]?.MaximalSize ?? 500);
  const dataLimits = (type?.Disks as Answer[] | undefined)?.[0]?.DataDisk?.[0] as Answer | undefined;
  const diskType = String((type?.Disks as Answer[] | undefined)?.[0]?.Name ?? "CLOUD_SSD");
  const disks: ParamValue = [
    { IsBoot: true, Type: diskType, Size: boot },
    ...dataDisks.map((d) => ({ IsBoot: false, Type: diskType, Size: d.size })),
  ];

  // Every charge type the zone offers for this spec, each with its price: the live quote.
  const prices = useAsync(
    async () =>
      zone && gpuType && spec
        ? ((
            await api().call("GetCompShareInstancePrice", {
              Zone: zone,
              GpuType: gpuType,
              GPU: spec.gpu,
              CPU: spec.cpu,
              Memory: spec.memory,
              Disks: disks,
            })
          ).PriceDetails as Answer[])
        : [],
    [zone, gpuType, spec?.gpu, spec?.cpu, spec?.memory, boot, dataDisks.map((d) => d.size).join(",")],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: picks a charge type only when the quotes change.
  useEffect(() => {
    if (prices.data?.length && !prices.data.some((p) => p.ChargeType === charge))
      setCharge((prices.data.find((p) => p.ChargeType === "Postpay") ?? prices.data[0])?.ChargeType ?? "");
  }, [prices.data]);
  const quote = (prices.data ?? []).find((p) => p.ChargeType === charge);

  const create = async (e: Event) => {
    e.preventDefault();
    if (!spec) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await api().call("CreateCompShareInstance", {
        Zone: zone,
        GpuType: gpuType,
        GPU: spec.gpu,
        CPU: spec.cpu,
        Memory: spec.memory,
        MachineType: "G",
        CompShareImageId: image,
        ChargeType: charge,
        Disks: disks,
        Name: name.trim() || undefined,
        Password: password ? b64(password) : undefined,
      });
      navigate(`instances/${(r.UHostIds as string[])[0]}`);
    } catch (err) {
      setError(err);
      void capacity.reload();
    } finally {
      setBusy(false);
    }
  };

  const free = (name: string) => inventory.data?.[zone]?.[name];
  return (
    <div class="page">
      <h1>{t("createTitle")}</h1>
      <form class="wizard" onSubmit={create}>
        <div class="steps">
          <Step n={1} title={t("chooseZone")}>
            <div class="choices">
              {(zones.data ?? []).map((z) => (
                <Choice key={z.Zone} name="zone" checked={zone === z.Zone} onPick={() => setZone(z.Zone)}>
                  <strong>{z.Zone}</strong> <span class="muted">{z.Describe}</span>
                </Choice>
              ))}
            </div>
            <ErrorBox error={zones.error} onRetry={zones.reload} />
          </Step>
          <Step n={2} title={t("chooseGpu")}>
            <div class="choices cards">
              {(types.data ?? []).map((x) => (
                <Choice
                  key={x.Name}
                  name="gpuType"
                  cls={`card ${x.Status === "SoldOut" ? "soldout" : ""}`}
                  checked={gpuType === x.Name}
                  onPick={() => setGpuType(x.Name)}
                >
                  <strong>{x.Name}</strong>
                  <span class="muted">{x.Description}</span>
                  <span class="stock">
                    {x.Status === "SoldOut" ? t("soldOut") : t("available", { n: free(x.Name) ?? "?" })}
                  </span>
                </Choice>
              ))}
            </div>
          </Step>
          <Step n={3} title={t("chooseSize")}>
            <div class="choices" data-testid="sizes">
              {specs.map((s) => {
                const ok = enough(s);
                const id = `stock-${s.gpu}-${s.cpu}-${s.memory}`;
                return (
                  <Choice
                    key={id}
                    name="size"
                    cls={ok ? "" : "soldout"}
                    checked={sameSpec(spec, s)}
                    onPick={() => setSpec(s)}
                    describedBy={id}
                  >
                    {t("gpusCpuMem", { gpu: s.gpu, cpu: s.cpu, mem: gb(s.memory) })}{" "}
                    <span id={id} class={`stock ${ok ? "ok" : "bad"}`}>
                      {ok ? t("inStock") : t("noStock")}
                    </span>
                  </Choice>
                );
              })}
            </div>
          </Step>
          <Step n={4} title={t("chooseImage")}>
            <div class="tabs">
              {[
                ["System", t("platformImages")],
                ["App", "App"],
                ["Custom", t("customImages")],
                ["Shared", t("sharedImages")],
              ].map(([k = "", label]) => (
                <button type="button" key={k} aria-pressed={imageKind === k} onClick={() => setImageKind(k)}>
                  {label}
                </button>
              ))}
            </div>
            {images.data?.length === 0 && (
              <p class="muted">{imageKind === "Custom" ? t("noCustomImages") : t("none")}</p>
            )}
            <div class="choices">
              {(images.data ?? []).map((i) => (
                <Choice
                  key={i.CompShareImageId}
                  name="image"
                  checked={image === i.CompShareImageId}
                  onPick={() => setImage(i.CompShareImageId)}
                >
                  <strong>{i.Name}</strong> <span class="muted">{i.Description}</span>
                </Choice>
              ))}
            </div>
          </Step>
          <Step n={5} title={t("chooseDisks")}>
            <Field label={t("bootDisk")} hint={`20–${bootMax} GB · ${diskType}`}>
              <input
                type="number"
                min={20}
                max={bootMax}
                value={boot}
                onInput={(e) => setBoot(Number(e.currentTarget.value))}
              />
            </Field>
            {dataDisks.map((disk, i) => (
              <div class="row" key={disk.key}>
                <Field
                  label={`${t("dataDisk")} ${i + 1}`}
                  hint={`${dataLimits?.MinimalSize ?? 20}–${dataLimits?.MaximalSize ?? 4000} GB`}
                >
                  <input
                    type="number"
                    min={Number(dataLimits?.MinimalSize ?? 20)}
                    max={Number(dataLimits?.MaximalSize ?? 4000)}
                    value={disk.size}
                    onInput={(e) =>
                      setDataDisks(
                        dataDisks.map((d) =>
                          d.key === disk.key ? { ...d, size: Number(e.currentTarget.value) } : d,
                        ),
                      )
                    }
                  />
                </Field>
                <button
                  type="button"
                  class="small"
                  onClick={() => setDataDisks(dataDisks.filter((d) => d.key !== disk.key))}
                >
                  {t("remove")}
                </button>
              </div>
            ))}
            <button
              type="button"
              class="small"
              onClick={() => setDataDisks([...dataDisks, { key: Date.now(), size: 100 }])}
            >
              {t("addDataDisk")}
            </button>
          </Step>
          <Step n={6} title={t("chooseCharge")}>
            <div class="choices">
              {(prices.data ?? []).map((p) => (
                <Choice
                  key={p.ChargeType}
                  name="charge"
                  checked={charge === p.ChargeType}
                  onPick={() => setCharge(p.ChargeType)}
                >
                  <strong>{chargeLabel(p.ChargeType)}</strong> {money(p.OriginalPrice)}{" "}
                  {t("perUnit", { unit: chargeUnit(p.ChargeType) })}
                </Choice>
              ))}
            </div>
            <ErrorBox error={prices.error} />
          </Step>
          <Step n={7} title={t("details")}>
            <Field label={`${t("name")} (${t("optional")})`} hint={t("nameRule")}>
              <input
                name="name"
                maxLength={63}
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </Field>
            <Field label={t("passwordOptional")} hint={t("passwordRule")}>
              <input
                name="password"
                type="password"
                autoComplete="new-password"
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </Field>
          </Step>
        </div>
        <aside class="summary" aria-label={t("summary")}>
          <h2>{t("summary")}</h2>
          <dl class="facts">
            <dt>{t("zone")}</dt>
            <dd>{zone}</dd>
            <dt>{t("colGpu")}</dt>
            <dd>{gpuType}</dd>
            <dt>{t("chooseSize")}</dt>
            <dd>{spec ? t("gpusCpuMem", { gpu: spec.gpu, cpu: spec.cpu, mem: gb(spec.memory) }) : "-"}</dd>
            <dt>{t("chargeType")}</dt>
            <dd>{chargeLabel(charge)}</dd>
          </dl>
          <output class="price" data-testid="price">
            {quote ? (
              <>
                <strong>{money(quote.OriginalPrice)}</strong> {t("perUnit", { unit: chargeUnit(charge) })}
              </>
            ) : (
              "…"
            )}
          </output>
          <p class="hint">{t("priceNote")}</p>
          <ErrorBox error={error} />
          <button type="submit" class="primary" disabled={busy || !spec || !image || !charge}>
            {busy ? t("creating") : t("create")}
          </button>
        </aside>
      </form>
    </div>
  );
}

/** One numbered step of the wizard. */
function Step({ n, title, children }: { n: number; title: string; children: ComponentChildren }) {
  return (
    <fieldset>
      <legend>
        <span class="n">{n}</span> {title}
      </legend>
      {children}
    </fieldset>
  );
}

/** One option of a step: a radio button and its label. */
function Choice({
  name,
  checked,
  onPick,
  cls = "",
  describedBy,
  children,
}: {
  name: string;
  checked: boolean;
  onPick: () => void;
  cls?: string;
  describedBy?: string;
  children: ComponentChildren;
}) {
  return (
    <label class={`choice ${cls}`}>
      <input type="radio" name={name} checked={checked} onChange={onPick} aria-describedby={describedBy} />
      <span>{children}</span>
    </label>
  );
}
