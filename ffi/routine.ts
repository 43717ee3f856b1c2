/**
 * What the native routines (clone child, exec) share: bytes written as a hex
 * listing, and the choice of the routine for the machine ptd runs on.
 */

/** Bytes from a hex listing; white space is ignored. */
export function hexBytes(listing: string): Uint8Array {
  const hex = listing.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: hex.length / 2 },
    (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  );
}

/** The routine for this machine, or a clear error where there is none yet. */
export function routineFor(
  what: string,
  byArch: Partial<Record<typeof Deno.build.arch, Uint8Array>>,
): Uint8Array {
  const code = byArch[Deno.build.arch];
  if (code) return code;
  throw new Error(
    `ptd: no ${what} for ${Deno.build.arch} yet (only ${
      Object.keys(byArch).join(", ")
    })`,
  );
}
