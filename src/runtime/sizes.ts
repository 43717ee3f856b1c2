/**
 * Sizes as Podman prints and reads them (go-units), apart from the
 * modules that use them, so that pull progress, `ps` and `run` load no more.
 */

/**
 * Podman's `images` SIZE: go-units' HumanSizeWithPrecision(3) with a space
 * before the unit, as Podman puts it there: "2 MB", "12.3 kB".
 */
export function humanSize(bytes: number): string {
  return goUnitsSize(bytes, 3).replace(/([A-Za-z]+)$/, " $1");
}

/**
 * go-units' HumanSizeWithPrecision, which Podman's `ps --size` (3 digits)
 * and `system df` (HumanSize: 4) print: "48B", "1.98MB", no space.
 */
export function goUnitsSize(bytes: number, precision: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * A size as Podman reads --memory and --shm-size ("64m", "1g", "1024",
 * binary units); undefined when it is not one.
 */
export function ramInBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  return m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : undefined;
}
