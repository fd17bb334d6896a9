import { useEffect, useMemo, useState } from "preact/hooks";
import { Confirm, Dialog, ErrorBox, Field, FormButtons, Head, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { time } from "../lib/format.js";
import { t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { href } from "../lib/router.js";
import { api } from "../lib/session.js";

/** How often a Making image's progress is read while the page is open. */
const PROGRESS_SECONDS = 2;

/** The progress of the images being made, read while any is Making. */
function useProgress(making: string[]): Map<string, Answer> {
  const [progress, setProgress] = useState<Map<string, Answer>>(new Map());
  const key = making.join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the list of ids.
  useEffect(() => {
    if (making.length === 0) return;
    let stopped = false;
    const read = async () => {
      const answers = await Promise.all(
        making.map((id) =>
          api()
            .call("GetCompShareImageCreateProgress", { CompShareImageId: id })
            .then((r) => [id, r] as const)
            .catch(() => undefined),
        ),
      );
      if (!stopped) setProgress(new Map(answers.filter((a) => a !== undefined)));
    };
    void read();
    const timer = setInterval(() => void read(), PROGRESS_SECONDS * 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [key]);
  return progress;
}

/**
 * Custom images: the account's own (made from an instance's system disk, with their progress while
 * being made) and the ones other accounts shared; each can start an instance in the create wizard.
 */
export function Images() {
  useLang();
  const [tab, setTab] = useState<"mine" | "shared">("mine");
  const list = useAsync(
    async () =>
      (
        await api().call(
          tab === "mine" ? "DescribeCompShareCustomImages" : "DescribeCompShareSharingImages",
          {
            Limit: 100,
          },
        )
      ).ImageSet as Answer[],
    [tab],
  );
  const [asking, setAsking] = useState<{ kind: "edit" | "delete"; image: Answer } | undefined>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState("");
  useLiveEvents(useMemo(() => batcher(200, () => void list.reload()), [list.reload]));
  const rows = list.data ?? [];
  const progress = useProgress(
    rows.filter((i) => i.Status === "Making").map((i) => i.CompShareImageId as string),
  );
  const run = async (action: string, params: Record<string, ParamValue>) => {
    setError(undefined);
    try {
      await api().call(action, params);
      setAsking(undefined);
      setNotice(t("accepted", { action }));
      await list.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("imagesTitle")}</h1>
        <span class="muted">{t("imagesHint")}</span>
      </div>
      <div class="tabs">
        <button type="button" aria-pressed={tab === "mine"} onClick={() => setTab("mine")}>
          {t("customImages")}
        </button>
        <button type="button" aria-pressed={tab === "shared"} onClick={() => setTab("shared")}>
          {t("sharedImages")}
        </button>
      </div>
      {notice && <output class="notice">{notice}</output>}
      <ErrorBox error={!asking && (error ?? list.error)} onRetry={list.reload} />
      {list.data && rows.length === 0 ? (
        <p class="empty">{tab === "mine" ? t("noCustomImages") : t("noSharedImages")}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <Head
              cols={[
                t("colName"),
                t("colId"),
                t("colState"),
                t("size"),
                t("colGpu"),
                t("created"),
                t("actions"),
              ]}
            />
            <tbody>
              {rows.map((im) => {
                const p = progress.get(im.CompShareImageId);
                return (
                  <tr key={im.CompShareImageId} data-image={im.CompShareImageId}>
                    <td>
                      <strong>{im.Name}</strong>
                      {im.Description && <div class="muted">{im.Description}</div>}
                      {tab === "shared" && <div class="muted">{im.Owner?.AccountName}</div>}
                    </td>
                    <td>
                      <code>{im.CompShareImageId}</code>
                    </td>
                    <td>
                      <ImageStatus image={im} progress={p} />
                    </td>
                    <td>{im.Size ? `${Math.round((im.Size / 1024) * 10) / 10} GB` : "-"}</td>
                    <td>{im.SourceGpuType}</td>
                    <td>{time(im.CreateTime)}</td>
                    <td class="buttons-cell">
                      {im.Status === "Available" && (
                        <a class="button small" href={href("create", { image: im.CompShareImageId })}>
                          {t("createFromImage")}
                        </a>
                      )}
                      {tab === "mine" && (
                        <>
                          <button
                            type="button"
                            class="small"
                            onClick={() => setAsking({ kind: "edit", image: im })}
                          >
                            {t("edit")}
                          </button>
                          <button
                            type="button"
                            class="small"
                            disabled={im.Status === "Making"}
                            title={im.Status === "Making" ? t("notWhileMaking") : ""}
                            onClick={() => setAsking({ kind: "delete", image: im })}
                          >
                            {t("deleteKey")}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {asking?.kind === "delete" && (
        <Confirm
          title={t("deleteKey")}
          text={t("deleteImageWarn", { image: asking.image.Name })}
          onCancel={() => setAsking(undefined)}
          onConfirm={() =>
            void run("TerminateCompShareCustomImage", { CompShareImageId: asking.image.CompShareImageId })
          }
        />
      )}
      {asking?.kind === "edit" && (
        <Dialog title={t("edit")} onClose={() => setAsking(undefined)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const d = new FormData(e.currentTarget);
              void run("UpdateCompShareImage", {
                CompShareImageId: asking.image.CompShareImageId,
                Name: String(d.get("name")),
                Description: String(d.get("description")),
              });
            }}
          >
            <Field label={t("name")}>
              <input name="name" required maxLength={63} defaultValue={asking.image.Name} />
            </Field>
            <Field label={t("description")}>
              <input name="description" maxLength={255} defaultValue={asking.image.Description} />
            </Field>
            <ErrorBox error={error} />
            <FormButtons onCancel={() => setAsking(undefined)} />
          </form>
        </Dialog>
      )}
    </div>
  );
}

/** An image's status; while Making, its progress bar and the time left. */
function ImageStatus({ image, progress }: { image: Answer; progress?: Answer }) {
  if (image.Status === "Making") {
    const pct = Number(progress?.Process ?? 0);
    return (
      <span class="making">
        <span class="state busy">Making</span>
        <progress max={100} value={pct} aria-label={t("progress")} />
        <span class="muted">
          {pct.toFixed(1)}%
          {progress?.RemainingDuration ? ` · ${t("remaining", { s: progress.RemainingDuration })}` : ""}
        </span>
      </span>
    );
  }
  if (image.Status === "Available") return <span class="state ok">Available</span>;
  return (
    <span>
      <span class="state bad">{image.Status}</span> <span class="muted">{image.FailedReason}</span>
    </span>
  );
}
