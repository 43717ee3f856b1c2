/**
 * Sizes as Podman prints them (go-units), apart from the presentation
 * modules that use them, so that pull progress and `ps` load no more.
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
