import type { Catalog, SoftwareSpec } from "../../domain/catalog.js";

/**
 * The built-in software → port list (DescribeCompShareSoftwarePort): what CompShare images commonly
 * serve, on their usual ports. A catalog may give its own `software` list instead.
 */
export const DEFAULT_SOFTWARE: SoftwareSpec[] = [
  { name: "SSH", port: 22, protocol: "tcp" },
  { name: "JupyterLab", port: 8888, protocol: "http" },
  { name: "TensorBoard", port: 6006, protocol: "http" },
  { name: "VSCode", port: 8080, protocol: "http" },
  { name: "ComfyUI", port: 8188, protocol: "http" },
  { name: "StableDiffusionWebUI", port: 7860, protocol: "http" },
  { name: "Ollama", port: 11434, protocol: "http" },
];

/** The catalog's software list, or the built-in one. */
export function softwareOf(catalog: Catalog): SoftwareSpec[] {
  return catalog.software ?? DEFAULT_SOFTWARE;
}

/**
 * Checks the catalog's software list and every image's `softwares` against it; `fail` raises the
 * catalog error naming the path.
 */
export function validateSoftware(cat: Catalog, fail: (path: string, msg: string) => never): void {
  if (cat.software !== undefined && !Array.isArray(cat.software)) fail("software", "must be an array");
  const list = softwareOf(cat);
  const names = new Set<string>();
  list.forEach((s, i) => {
    if (typeof s.name !== "string" || !s.name) fail(`software[${i}].name`, "must be a non-empty string");
    if (names.has(s.name)) fail(`software[${i}].name`, `duplicate software ${s.name}`);
    names.add(s.name);
    if (!(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535))
      fail(`software[${i}].port`, "must be an integer in 1-65535");
    if (s.protocol !== "http" && s.protocol !== "tcp") fail(`software[${i}].protocol`, "must be http or tcp");
  });
  cat.images.forEach((im, i) => {
    if (im.softwares === undefined) return;
    if (!Array.isArray(im.softwares)) fail(`images[${i}].softwares`, "must be an array of software names");
    for (const name of im.softwares)
      if (!names.has(name))
        fail(`images[${i}].softwares`, `unknown software ${name}; the list has ${[...names].join(", ")}`);
  });
}
